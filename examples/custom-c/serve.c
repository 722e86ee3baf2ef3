/* A compiled custom container for thaw (or SageMaker): a linear model behind the SageMaker
 * container contract, in plain C with no dependency beyond libc.
 *
 * thaw runs it as `serve serve` in the worker's sandbox, with the model read-only at
 * /opt/ml/model and SAGEMAKER_BIND_TO_PORT set. The model is /opt/ml/model/model.txt: the bias,
 * then one weight per feature, whitespace-separated. POST /invocations takes text/csv rows and
 * answers one prediction per line (text/csv). One connection at a time, kept alive: thaw sends a
 * worker one request at a time.
 *
 * Build: cc -O2 -Wall -o serve serve.c */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FEATURES 1024
#define MAX_REQUEST (6 << 20)

static double weights[MAX_FEATURES];
static int n_features;
static double bias;

static int load_model(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.txt", dir);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int ok = fscanf(f, "%lf", &bias) == 1;
  while (ok && n_features < MAX_FEATURES && fscanf(f, "%lf", &weights[n_features]) == 1) {
    n_features++;
  }
  fclose(f);
  return ok && n_features > 0 ? 0 : -1;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int reply(int fd, int status, const char *reason, const char *type, const char *body,
                 size_t len) {
  char head[256];
  int h = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n", status,
                   reason, type, len);
  return send_all(fd, head, (size_t)h) || send_all(fd, body, len) ? -1 : 0;
}

/* Predicts every CSV row of body; returns the text/csv answer (malloc'd) or NULL with *err. */
static char *predict_csv(char *body, size_t *out_len, const char **err) {
  size_t cap = 4096, len = 0;
  char *out = malloc(cap);
  for (char *line = strtok(body, "\n"); line; line = strtok(NULL, "\n")) {
    if (*line == '\0' || *line == '\r') continue;
    double y = bias;
    int i = 0;
    for (char *p = line; *p && *p != '\r';) {
      char *end;
      double x = strtod(p, &end);
      if (end == p || i >= n_features) {
        *err = end == p ? "not a number" : "too many features";
        free(out);
        return NULL;
      }
      y += weights[i++] * x;
      if (*end == ',') {
        p = end + 1;
      } else if (*end == '\0' || *end == '\r') {
        p = end;
      } else {
        *err = "not a number";
        free(out);
        return NULL;
      }
    }
    if (i != n_features) {
      *err = "too few features";
      free(out);
      return NULL;
    }
    if (len + 64 > cap) out = realloc(out, cap *= 2);
    len += (size_t)snprintf(out + len, cap - len, "%.17g\n", y);
  }
  *out_len = len;
  return out;
}

/* Serves one connection until the peer closes it. */
static void serve_connection(int fd, char *buf) {
  size_t have = 0;
  for (;;) {
    char *end_of_head;
    while (!(end_of_head = memmem(buf, have, "\r\n\r\n", 4))) {
      if (have == MAX_REQUEST) return;
      ssize_t r = recv(fd, buf + have, MAX_REQUEST - have, 0);
      if (r <= 0) return;
      have += (size_t)r;
    }
    size_t head_len = (size_t)(end_of_head - buf) + 4;
    size_t body_len = 0;
    for (char *h = strstr(buf, "\r\n"); h && h < end_of_head; h = strstr(h + 2, "\r\n")) {
      if (strncasecmp(h + 2, "Content-Length:", 15) == 0) body_len = strtoul(h + 17, NULL, 10);
    }
    if (head_len + body_len >= MAX_REQUEST) return;
    while (have < head_len + body_len) {
      ssize_t r = recv(fd, buf + have, MAX_REQUEST - have, 0);
      if (r <= 0) return;
      have += (size_t)r;
    }
    int rc;
    if (strncmp(buf, "GET /ping ", 10) == 0) {
      rc = reply(fd, 200, "OK", "text/plain", "", 0);
    } else if (strncmp(buf, "POST /invocations ", 18) == 0) {
      char saved = buf[head_len + body_len];
      buf[head_len + body_len] = '\0';
      const char *err = NULL;
      size_t out_len = 0;
      char *out = predict_csv(buf + head_len, &out_len, &err);
      buf[head_len + body_len] = saved;
      rc = out ? reply(fd, 200, "OK", "text/csv", out, out_len)
               : reply(fd, 400, "Bad Request", "text/plain", err, strlen(err));
      free(out);
    } else {
      rc = reply(fd, 404, "Not Found", "application/json", "{}", 2);
    }
    if (rc != 0) return;
    memmove(buf, buf + head_len + body_len, have - head_len - body_len);
    have -= head_len + body_len;
  }
}

static void on_term(int sig) {
  (void)sig;
  _exit(0); /* retirement: nothing to flush */
}

int main(void) {
  const char *dir = getenv("SM_MODEL_DIR") ? getenv("SM_MODEL_DIR") : "/opt/ml/model";
  if (load_model(dir) != 0) {
    fprintf(stderr, "serve: cannot load %s/model.txt\n", dir);
    return 1;
  }
  signal(SIGTERM, on_term);
  const char *port = getenv("SAGEMAKER_BIND_TO_PORT");
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)atoi(port ? port : "8080")),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 16) != 0) {
    fprintf(stderr, "serve: cannot listen: %s\n", strerror(errno));
    return 1;
  }
  char *buf = malloc(MAX_REQUEST + 1);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    serve_connection(c, buf);
    close(c);
  }
}
