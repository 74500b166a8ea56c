// LD_PRELOAD shim for wrk: a full TLS handshake on every connection, and proof of it.
//
// wrk keeps one SSL object per connection slot and, on reconnect, calls SSL_shutdown then
// SSL_clear, which keeps the last session (OpenSSL: a cleanly shut down session is not "bad"),
// so the next SSL_connect resumes it (TLS 1.3 PSK from the server's ticket). LXD does not resume:
// each of its requests is a new connection with a full handshake. This shim drops the kept
// session before a handshake starts, so every connection is a full handshake.
//
// Environment:
//   LXCDN_SHIM_KEEP_SESSIONS=1  leave sessions alone (wrk's default behaviour), only count
//   LXCDN_SHIM_REPORT=PATH      at exit, write "full=N resumed=N tls13=N" to PATH
//
// The counts come from the client's view of each completed handshake (SSL_session_reused), so
// "resumed=0" with "full" equal to the connections made is the evidence that the servers were
// loaded with full handshakes only; a run with LXCDN_SHIM_KEEP_SESSIONS=1 shows resumed>0, i.e.
// the servers do resume and the shim is what prevents it.
//
// Built by bench/origin/run: cc -O2 -shared -fPIC -o no_resume.so no_resume.c -ldl -lssl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long full_;
static unsigned long resumed_;
static unsigned long tls13_;

typedef int (*ssl_connect_fn)(SSL*);

int SSL_connect(SSL* ssl) {
  static ssl_connect_fn real;
  static int keep = -1;
  if (real == NULL) {
    real = (ssl_connect_fn)dlsym(RTLD_NEXT, "SSL_connect");
  }
  if (keep < 0) {
    const char* k = getenv("LXCDN_SHIM_KEEP_SESSIONS");
    keep = k != NULL && k[0] == '1';
  }
  // SSL_in_before: nothing sent yet on this connection (wrk calls SSL_connect again after
  // WANT_READ/WANT_WRITE; only the first call of each handshake may drop the session).
  if (!keep && SSL_in_before(ssl)) {
    SSL_set_session(ssl, NULL);
  }
  int r = real(ssl);
  if (r == 1) {
    __atomic_fetch_add(SSL_session_reused(ssl) ? &resumed_ : &full_, 1, __ATOMIC_RELAXED);
    if (SSL_version(ssl) == TLS1_3_VERSION) {
      __atomic_fetch_add(&tls13_, 1, __ATOMIC_RELAXED);
    }
  }
  return r;
}

__attribute__((destructor)) static void report(void) {
  const char* path = getenv("LXCDN_SHIM_REPORT");
  if (path == NULL) {
    return;
  }
  FILE* f = fopen(path, "w");
  if (f == NULL) {
    return;
  }
  fprintf(f, "full=%lu resumed=%lu tls13=%lu\n", __atomic_load_n(&full_, __ATOMIC_RELAXED),
          __atomic_load_n(&resumed_, __ATOMIC_RELAXED), __atomic_load_n(&tls13_, __ATOMIC_RELAXED));
  fclose(f);
}
