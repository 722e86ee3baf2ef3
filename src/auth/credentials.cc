#include "auth/credentials.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace thaw::auth {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// `n` characters drawn uniformly from `alphabet` with OpenSSL's CSPRNG.
std::string RandomString(size_t n, std::string_view alphabet) {
  std::string out;
  while (out.size() < n) {
    unsigned char byte;
    if (RAND_bytes(&byte, 1) != 1) continue;
    // Rejection sampling keeps the distribution uniform.
    if (byte >= 256 - 256 % alphabet.size()) continue;
    out.push_back(alphabet[byte % alphabet.size()]);
  }
  return out;
}

}  // namespace

Result<std::vector<Credential>> ParseCredentials(std::string_view text) {
  struct Profile {
    std::string name;
    std::map<std::string, std::string> values;
  };
  std::vector<Profile> profiles;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line = Trim(text.substr(pos, end == text.npos ? text.npos : end - pos));
    pos = end == text.npos ? text.size() + 1 : end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return InvalidArgument("credentials line " + std::to_string(line_no) +
                               ": a section header must end with ']'");
      }
      std::string_view name = Trim(line.substr(1, line.size() - 2));
      if (name.substr(0, 8) == "profile ") name = Trim(name.substr(8));
      profiles.push_back({std::string(name), {}});
      continue;
    }
    size_t eq = line.find('=');
    if (eq == line.npos) {
      return InvalidArgument("credentials line " + std::to_string(line_no) +
                             ": expected key = value");
    }
    if (profiles.empty()) {
      return InvalidArgument("credentials line " + std::to_string(line_no) +
                             ": a key outside any [profile]");
    }
    profiles.back().values[std::string(Trim(line.substr(0, eq)))] =
        std::string(Trim(line.substr(eq + 1)));
  }
  std::vector<Credential> keys;
  for (const Profile& p : profiles) {
    auto id = p.values.find("aws_access_key_id");
    auto secret = p.values.find("aws_secret_access_key");
    if (id == p.values.end() || secret == p.values.end() || id->second.empty() ||
        secret->second.empty()) {
      continue;
    }
    auto token = p.values.find("aws_session_token");
    keys.push_back(
        {id->second, secret->second, token == p.values.end() ? "" : token->second, p.name});
  }
  return keys;
}

Status CheckDistinctKeys(const std::vector<Credential>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const Credential &c = keys[i], &other = keys[j];
      if (other.access_key == c.access_key &&
          (other.secret_key != c.secret_key || other.session_token != c.session_token)) {
        return InvalidArgument("credentials: access key " + c.access_key +
                               " appears in profiles [" + other.profile + "] and [" + c.profile +
                               "] with different secrets");
      }
    }
  }
  return Status::Ok();
}

Result<LoadedCredentials> LoadOrCreateCredentials(const std::filesystem::path& path) {
  LoadedCredentials out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) {
    Credential c{"AKIA" + RandomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                 RandomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                 "", "default"};
    std::string text =
        "# Keys thaw accepts (AWS shared-credentials format). Created by thaw.\n"
        "[default]\naws_access_key_id = " +
        c.access_key + "\naws_secret_access_key = " + c.secret_key + "\n";
    int w = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (w < 0) return Internal("cannot create " + path.native() + ": " + std::strerror(errno));
    bool ok =
        write(w, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(w) == 0;
    close(w);
    if (!ok) return Internal("cannot write " + path.native() + ": " + std::strerror(errno));
    out.keys.push_back(std::move(c));
    out.created = true;
    return out;
  }
  if (fd < 0) return Internal("cannot read " + path.native() + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return InvalidArgument(path.native() + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    close(fd);
    return InvalidArgument(path.native() + " is readable or writable by other users (mode " + ([&] {
                             std::ostringstream m;
                             m << std::oct << (st.st_mode & 0777);
                             return m.str();
                           })() +
                           "): chmod 600 it");
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  if (n < 0) return Internal("cannot read " + path.native() + ": " + std::strerror(errno));
  THAW_ASSIGN_OR_RETURN(out.keys, ParseCredentials(text));
  THAW_RETURN_IF_ERROR(CheckDistinctKeys(out.keys));
  if (out.keys.empty()) {
    return InvalidArgument(path.native() +
                           " holds no profile with both aws_access_key_id and "
                           "aws_secret_access_key");
  }
  return out;
}

}  // namespace thaw::auth
