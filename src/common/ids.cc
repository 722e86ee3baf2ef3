#include "common/ids.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "common/hash.h"

namespace thaw {
namespace {

void FillRandom(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    // The OS random source failing leaves no sane way on.
    throw std::runtime_error("RAND_bytes failed");
  }
}

constexpr char kHex[] = "0123456789abcdef";

// Request ids are made on every request: RAND_bytes costs a getpid system call each time (its
// fork check). Instead each thread runs splitmix64 from a seed drawn once from RAND_bytes; ids
// are unpredictable enough for ids (not for secrets). A fork bumps the generation so that a
// child reseeds instead of repeating its parent's sequence.
std::atomic<uint64_t> g_fork_generation{1};
[[maybe_unused]] const int g_atfork_registered =
    pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1); });

struct IdRandom {
  uint64_t state = 0;
  uint64_t generation = 0;
  uint64_t Next() {
    uint64_t current = g_fork_generation.load(std::memory_order_relaxed);
    if (generation != current) {
      FillRandom(reinterpret_cast<unsigned char*>(&state), sizeof(state));
      generation = current;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};
thread_local IdRandom t_id_random;

}  // namespace

std::string NewUuid() {
  std::array<unsigned char, 16> b{};
  uint64_t hi = t_id_random.Next(), lo = t_id_random.Next();
  std::memcpy(b.data(), &hi, 8);
  std::memcpy(b.data() + 8, &lo, 8);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

std::string RandomHex(size_t n) {
  std::string raw(n, '\0');
  FillRandom(reinterpret_cast<unsigned char*>(raw.data()), n);
  return HexEncode(raw);
}

}  // namespace thaw
