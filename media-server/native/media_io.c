/*
 * Carillon media packet I/O (issue 12): UDP sockets for the media plane with
 * batched receive (recvmmsg) and send (sendmmsg), driven by a uv_poll_t on the
 * thread's own Node event loop.
 *
 * Why C: the profile in BENCHMARKS.md ("Where the µs of an SRTP↔SRTP packet
 * go") puts ~35 % of a relayed packet in one recvmsg and one sendmsg per
 * packet and ~19 % in malloc/free of per-packet Buffers; Node's dgram exposes
 * neither recvmmsg/sendmmsg nor a way to receive into a reused buffer.
 *
 * Memory model: one context per JS thread owns a receive ring and a send ring,
 * both ArrayBuffers allocated by JS (so JS reads and fills them without any
 * crossing) and kept alive here by references. All sockets of the thread share
 * them: JS handles one socket's receive batch synchronously, and the send ring
 * holds (socket id, destination, length) entries that flush() sends as runs of
 * one sendmmsg per socket.
 *
 * Ring slot meta, 8 int32 each: [0] length, [1] port, [2] family (4|6),
 * [3] receive: 1 when truncated / send: the socket id, [4..7] address
 * (IPv4: [4] in host order; IPv6: the 16 bytes in network order).
 *
 * SRTP transform (RFC 3711 §4.1.1 AES-CM, §4.2.1 HMAC-SHA1), in place on a
 * JS Buffer: one EVP AES-128-CTR context per SRTP context, re-keyed with each
 * packet's IV (no allocation), and HMAC-SHA1 from SHA-1 states that already
 * absorbed K^ipad and K^opad, copied per packet. The replay window, the ROC
 * and the tag lengths stay in TypeScript (srtp/srtp-context.ts).
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
/* SHA1_Init/Update/Final: a plain SHA_CTX copied per packet, where EVP_MD_CTX copies allocate (OpenSSL 3 providers). */
#define OPENSSL_SUPPRESS_DEPRECATED
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#define META 8
#define MAX_SOCKETS 65536
/* Receive batches taken per readable event before yielding to the other handles of the loop. */
#define MAX_ROUNDS 4

typedef struct ctx ctx_t;

typedef struct sock {
  uv_poll_t poll;
  ctx_t *ctx;
  int id;
  int fd;
  int closing;
  int refs; /* the JS external and the poll handle: freed when both are gone */
  napi_ref on_batch;
} sock_t;

struct ctx {
  napi_env env;
  napi_ref rbuf_ref, rmeta_ref, sbuf_ref, smeta_ref;
  napi_async_context async;
  napi_ref resource;
  uint8_t *rbuf, *sbuf;
  int32_t *rmeta, *smeta;
  unsigned slots, slot_size;
  struct mmsghdr *rmsgs, *smsgs;
  struct iovec *riov, *siov;
  struct sockaddr_storage *raddr, *saddr;
  sock_t **sockets; /* by id; NULL when free */
  unsigned nsockets;
  /*
   * The JS external, the environment's cleanup hook and every socket whose poll
   * handle is not closed yet: freed when all are gone. A worker thread that
   * ends with sockets open must close their handles before its loop closes
   * (Node aborts on a loop closed with open handles): the async cleanup hook
   * does that, and is removed when the last close callback has run.
   */
  int refs;
  int closing; /* poll handles whose close callback is pending */
  napi_async_cleanup_hook_handle teardown;
};

static void ctx_release(ctx_t *c) {
  if (--c->refs > 0) return;
  free(c->rmsgs); free(c->smsgs); free(c->riov); free(c->siov); free(c->raddr); free(c->saddr); free(c->sockets);
  free(c);
}

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "media_io: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : "ERR_MEDIA_IO";
  napi_throw_error(env, code, msg);
  return NULL;
}

static void *buffer_data(napi_env env, napi_value v, size_t *len) {
  void *data = NULL;
  bool is;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type t;
    size_t n, off;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &t, &n, &data, &ab, &off) != napi_ok) return NULL;
    size_t unit = t == napi_int32_array ? 4 : 1;
    *len = n * unit;
    return data;
  }
  return NULL;
}

static void ctx_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  ctx_t *c = data;
  napi_delete_reference(env, c->rbuf_ref);
  napi_delete_reference(env, c->rmeta_ref);
  napi_delete_reference(env, c->sbuf_ref);
  napi_delete_reference(env, c->smeta_ref);
  napi_async_destroy(env, c->async);
  napi_delete_reference(env, c->resource);
  ctx_release(c);
}

static void on_poll_closed(uv_handle_t *h);

/*
 * Stops watching the socket, closes its handle and the descriptor. libuv asks
 * that an fd not be closed while a poll handle watches it: uv_poll_stop has
 * removed it from epoll already, so it closes now and the port is free when
 * close() returns, as with dgram.
 */
static void sock_stop(sock_t *s) {
  s->closing = 1;
  s->ctx->sockets[s->id] = NULL;
  s->ctx->closing++;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_poll_closed);
  close(s->fd);
  s->fd = -1;
}

/* The environment (a worker thread, the process) is going away: close what JS left open. */
static void ctx_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  ctx_t *c = arg;
  c->teardown = handle;
  for (unsigned i = 0; i < c->nsockets; i++)
    if (c->sockets[i]) sock_stop(c->sockets[i]);
  if (c->closing == 0) {
    c->teardown = NULL;
    napi_remove_async_cleanup_hook(handle);
    ctx_release(c);
  }
}

/* createContext(recvBuf, recvMeta, sendBuf, sendMeta, slots, slotSize) */
static napi_value create_context(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t slots, slot_size;
  CHECK(napi_get_value_uint32(env, argv[4], &slots));
  CHECK(napi_get_value_uint32(env, argv[5], &slot_size));
  size_t rl, rml, sl, sml;
  uint8_t *rbuf = buffer_data(env, argv[0], &rl), *sbuf = buffer_data(env, argv[2], &sl);
  int32_t *rmeta = buffer_data(env, argv[1], &rml), *smeta = buffer_data(env, argv[3], &sml);
  if (!rbuf || !sbuf || !rmeta || !smeta || slots == 0 || slot_size == 0 || rl < (size_t)slots * slot_size ||
      sl < (size_t)slots * slot_size || rml < (size_t)slots * META * 4 || sml < (size_t)slots * META * 4) {
    napi_throw_range_error(env, NULL, "media_io: rings too small for slots * slotSize");
    return NULL;
  }
  ctx_t *c = calloc(1, sizeof *c);
  c->env = env;
  c->rbuf = rbuf; c->sbuf = sbuf; c->rmeta = rmeta; c->smeta = smeta;
  c->slots = slots; c->slot_size = slot_size;
  c->rmsgs = calloc(slots, sizeof *c->rmsgs); c->smsgs = calloc(slots, sizeof *c->smsgs);
  c->riov = calloc(slots, sizeof *c->riov); c->siov = calloc(slots, sizeof *c->siov);
  c->raddr = calloc(slots, sizeof *c->raddr); c->saddr = calloc(slots, sizeof *c->saddr);
  for (unsigned i = 0; i < slots; i++) {
    c->riov[i].iov_base = rbuf + (size_t)i * slot_size;
    c->riov[i].iov_len = slot_size;
    c->rmsgs[i].msg_hdr.msg_iov = &c->riov[i];
    c->rmsgs[i].msg_hdr.msg_iovlen = 1;
    c->rmsgs[i].msg_hdr.msg_name = &c->raddr[i];
  }
  CHECK(napi_create_reference(env, argv[0], 1, &c->rbuf_ref));
  CHECK(napi_create_reference(env, argv[1], 1, &c->rmeta_ref));
  CHECK(napi_create_reference(env, argv[2], 1, &c->sbuf_ref));
  CHECK(napi_create_reference(env, argv[3], 1, &c->smeta_ref));
  napi_value resource, name, ext;
  CHECK(napi_create_object(env, &resource));
  CHECK(napi_create_reference(env, resource, 1, &c->resource));
  CHECK(napi_create_string_utf8(env, "carillon:media-io", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, resource, name, &c->async));
  c->refs = 2;
  CHECK(napi_add_async_cleanup_hook(env, ctx_teardown, c, NULL));
  CHECK(napi_create_external(env, c, ctx_finalize, NULL, &ext));
  return ext;
}

static void sock_release(sock_t *s) {
  if (--s->refs == 0) free(s);
}

static void on_poll_closed(uv_handle_t *h) {
  sock_t *s = h->data;
  ctx_t *c = s->ctx;
  sock_release(s);
  c->closing--;
  if (c->teardown && c->closing == 0) {
    napi_remove_async_cleanup_hook(c->teardown);
    c->teardown = NULL;
    ctx_release(c);
  }
  ctx_release(c); /* the socket's reference */
}

static void sock_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  sock_release(data);
}

/* Receives up to MAX_ROUNDS batches, handing each to JS as onBatch(count). */
static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  sock_t *s = h->data;
  ctx_t *c = s->ctx;
  napi_env env = c->env;
  if (status < 0) return;
  for (int round = 0; round < MAX_ROUNDS && !s->closing; round++) {
    for (unsigned i = 0; i < c->slots; i++) {
      c->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      c->rmsgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(s->fd, c->rmsgs, c->slots, MSG_DONTWAIT, NULL);
    if (n <= 0) return; /* EAGAIN, or an error the next datagram will not have */
    for (int i = 0; i < n; i++) {
      int32_t *m = c->rmeta + i * META;
      struct sockaddr_storage *a = &c->raddr[i];
      m[0] = (int32_t)c->rmsgs[i].msg_len;
      m[3] = (c->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
      if (a->ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)a;
        m[1] = ntohs(a6->sin6_port);
        m[2] = 6;
        memcpy(&m[4], &a6->sin6_addr, 16);
      } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)a;
        m[1] = ntohs(a4->sin_port);
        m[2] = 4;
        m[4] = (int32_t)ntohl(a4->sin_addr.s_addr);
      }
    }
    napi_handle_scope scope;
    napi_value fn, recv, argv[1], result;
    napi_open_handle_scope(env, &scope);
    napi_get_reference_value(env, s->on_batch, &fn);
    napi_get_global(env, &recv); /* make_callback wants an object receiver */
    napi_create_int32(env, n, &argv[0]);
    /* make_callback: the thread's microtasks (the send flush) run when the batch is handled. */
    if (napi_make_callback(env, c->async, recv, fn, 1, argv, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
    napi_close_handle_scope(env, scope);
    if ((unsigned)n < c->slots) return;
  }
}

/* open(ctx, family, address, port, rcvbufBytes, onBatch) -> [handle, id, boundPort] */
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  ctx_t *c;
  CHECK(napi_get_value_external(env, argv[0], (void **)&c));
  int32_t family, port, rcvbuf;
  char addr[64];
  size_t addr_len;
  CHECK(napi_get_value_int32(env, argv[1], &family));
  CHECK(napi_get_value_string_utf8(env, argv[2], addr, sizeof addr, &addr_len));
  CHECK(napi_get_value_int32(env, argv[3], &port));
  CHECK(napi_get_value_int32(env, argv[4], &rcvbuf));
  struct sockaddr_storage ss;
  socklen_t sl;
  memset(&ss, 0, sizeof ss);
  if (family == 6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &a6->sin6_addr) != 1) return throw_errno(env, EINVAL, addr);
    sl = sizeof *a6;
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a4->sin_addr) != 1) return throw_errno(env, EINVAL, addr);
    sl = sizeof *a4;
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind");
  }
  /* Capped by net.core.rmem_max: the kernel default still works, only with less slack. */
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sl = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  int bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  unsigned id = 0;
  while (id < c->nsockets && c->sockets[id]) id++;
  if (id == c->nsockets) {
    if (c->nsockets >= MAX_SOCKETS) { close(fd); return throw_errno(env, EMFILE, "media_io sockets"); }
    unsigned n = c->nsockets ? c->nsockets * 2 : 64;
    c->sockets = realloc(c->sockets, n * sizeof *c->sockets);
    memset(c->sockets + c->nsockets, 0, (n - c->nsockets) * sizeof *c->sockets);
    c->nsockets = n;
  }
  sock_t *s = calloc(1, sizeof *s);
  s->ctx = c; s->fd = fd; s->id = (int)id; s->refs = 2;
  c->refs++;
  c->sockets[id] = s;
  CHECK(napi_create_reference(env, argv[5], 1, &s->on_batch));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  napi_value out, handle, v;
  CHECK(napi_create_array_with_length(env, 3, &out));
  CHECK(napi_create_external(env, s, sock_finalize, NULL, &handle));
  CHECK(napi_set_element(env, out, 0, handle));
  CHECK(napi_create_int32(env, (int32_t)id, &v));
  CHECK(napi_set_element(env, out, 1, v));
  CHECK(napi_create_int32(env, bound, &v));
  CHECK(napi_set_element(env, out, 2, v));
  return out;
}

static socklen_t fill_addr(struct sockaddr_storage *ss, const int32_t *m) {
  if (m[2] == 6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    memset(a6, 0, sizeof *a6);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)m[1]);
    memcpy(&a6->sin6_addr, &m[4], 16);
    return sizeof *a6;
  }
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  memset(a4, 0, sizeof *a4);
  a4->sin_family = AF_INET;
  a4->sin_port = htons((uint16_t)m[1]);
  a4->sin_addr.s_addr = htonl((uint32_t)m[4]);
  return sizeof *a4;
}

/*
 * flush(ctx, count) -> failures. Sends send-ring entries 0..count-1 (meta[3]
 * = socket id), one sendmmsg per run of entries on the same socket. An entry
 * the kernel refuses gets -errno as its length (JS reports it on that
 * socket); the rest go on.
 */
static napi_value flush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  ctx_t *c;
  uint32_t count;
  CHECK(napi_get_value_external(env, argv[0], (void **)&c));
  CHECK(napi_get_value_uint32(env, argv[1], &count));
  if (count > c->slots) count = c->slots;
  int failures = 0;
  unsigned i = 0;
  while (i < count) {
    int id = c->smeta[i * META + 3];
    unsigned j = i;
    while (j < count && c->smeta[j * META + 3] == id) {
      int32_t *m = c->smeta + j * META;
      c->siov[j].iov_base = c->sbuf + (size_t)j * c->slot_size;
      c->siov[j].iov_len = (size_t)m[0];
      c->smsgs[j].msg_hdr.msg_iov = &c->siov[j];
      c->smsgs[j].msg_hdr.msg_iovlen = 1;
      c->smsgs[j].msg_hdr.msg_name = &c->saddr[j];
      c->smsgs[j].msg_hdr.msg_namelen = fill_addr(&c->saddr[j], m);
      j++;
    }
    sock_t *s = (id >= 0 && (unsigned)id < c->nsockets) ? c->sockets[id] : NULL;
    unsigned k = i;
    while (s && !s->closing && k < j) {
      int n = sendmmsg(s->fd, c->smsgs + k, j - k, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        /* The first datagram of the run was refused (ICMP error pending, full buffer): note it, go on. */
        c->smeta[k * META + 0] = -errno;
        failures++;
        k++;
      } else {
        k += (unsigned)n;
      }
    }
    i = j;
  }
  napi_value out;
  CHECK(napi_create_int32(env, failures, &out));
  return out;
}

/* sendNow(handle, buffer, offset, length, family, port, address Int32Array(4)) for datagrams larger than a slot. */
static napi_value send_now(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s;
  CHECK(napi_get_value_external(env, argv[0], (void **)&s));
  size_t len;
  uint8_t *data = buffer_data(env, argv[1], &len);
  uint32_t off, n;
  int32_t fam, port;
  CHECK(napi_get_value_uint32(env, argv[2], &off));
  CHECK(napi_get_value_uint32(env, argv[3], &n));
  CHECK(napi_get_value_int32(env, argv[4], &fam));
  CHECK(napi_get_value_int32(env, argv[5], &port));
  size_t al;
  int32_t *a = buffer_data(env, argv[6], &al);
  if (!data || !a || al < 16 || (size_t)off + n > len) {
    napi_throw_range_error(env, NULL, "media_io: bad sendNow arguments");
    return NULL;
  }
  int32_t m[META] = {0, port, fam, 0, a[0], a[1], a[2], a[3]};
  struct sockaddr_storage ss;
  socklen_t sl = fill_addr(&ss, m);
  int r = s->closing ? 0 : (int)sendto(s->fd, data + off, n, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
  napi_value out;
  CHECK(napi_create_int32(env, r < 0 ? errno : 0, &out));
  return out;
}

/* close(handle): stops the poll handle and closes the descriptor; memory goes with the last reference. */
static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s;
  CHECK(napi_get_value_external(env, argv[0], (void **)&s));
  if (s->closing) return NULL;
  napi_delete_reference(env, s->on_batch);
  s->on_batch = NULL;
  sock_stop(s);
  return NULL;
}

/* pton(address, Int32Array(4)) -> 4 | 6 | 0: the address words as the meta holds them. */
static napi_value pton(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char addr[64];
  size_t n, al;
  CHECK(napi_get_value_string_utf8(env, argv[0], addr, sizeof addr, &n));
  int32_t *out = buffer_data(env, argv[1], &al);
  int family = 0;
  struct in_addr a4;
  if (out && al >= 16) {
    if (inet_pton(AF_INET, addr, &a4) == 1) {
      out[0] = (int32_t)ntohl(a4.s_addr);
      family = 4;
    } else if (inet_pton(AF_INET6, addr, out) == 1) {
      family = 6;
    }
  }
  napi_value v;
  CHECK(napi_create_int32(env, family, &v));
  return v;
}

typedef struct {
  EVP_CIPHER_CTX *aes;
  uint8_t salt[14];
  SHA_CTX inner, outer;
} srtp_t;

static void srtp_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  srtp_t *t = data;
  EVP_CIPHER_CTX_free(t->aes);
  OPENSSL_cleanse(t, sizeof *t);
  free(t);
}

/* srtpCreate(cipherKey 16, cipherSalt 14, authKey <= 64) */
static napi_value srtp_create(napi_env env, napi_callback_info info) {
  size_t argc = 3, kl, sl, al;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *key = buffer_data(env, argv[0], &kl), *salt = buffer_data(env, argv[1], &sl), *auth = buffer_data(env, argv[2], &al);
  if (!key || !salt || !auth || kl != 16 || sl != 14 || al > 64) {
    napi_throw_range_error(env, NULL, "media_io: SRTP keys must be 16, 14 and at most 64 bytes");
    return NULL;
  }
  srtp_t *t = calloc(1, sizeof *t);
  uint8_t zero[16] = {0}, pad[64];
  t->aes = EVP_CIPHER_CTX_new();
  if (!t->aes || EVP_EncryptInit_ex(t->aes, EVP_aes_128_ctr(), NULL, key, zero) != 1) {
    EVP_CIPHER_CTX_free(t->aes);
    free(t);
    napi_throw_error(env, NULL, "media_io: AES-128-CTR unavailable");
    return NULL;
  }
  memcpy(t->salt, salt, 14);
  /* RFC 2104: H(K ^ opad || H(K ^ ipad || m)), K zero-padded to the 64-byte block. */
  memset(pad, 0x36, 64);
  for (size_t i = 0; i < al; i++) pad[i] ^= auth[i];
  SHA1_Init(&t->inner);
  SHA1_Update(&t->inner, pad, 64);
  memset(pad, 0x5c, 64);
  for (size_t i = 0; i < al; i++) pad[i] ^= auth[i];
  SHA1_Init(&t->outer);
  SHA1_Update(&t->outer, pad, 64);
  OPENSSL_cleanse(pad, sizeof pad);
  napi_value ext;
  CHECK(napi_create_external(env, t, srtp_finalize, NULL, &ext));
  return ext;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* HMAC-SHA1 of data[0, len), then the 4-byte trailer (the SRTP ROC, §4.2) when trailer >= 0. */
static void srtp_hmac(const srtp_t *t, const uint8_t *data, size_t len, int64_t trailer, uint8_t out[20]) {
  SHA_CTX c = t->inner;
  uint8_t inner[20], roc[4];
  SHA1_Update(&c, data, len);
  if (trailer >= 0) {
    put32(roc, (uint32_t)trailer);
    SHA1_Update(&c, roc, 4);
  }
  SHA1_Final(inner, &c);
  c = t->outer;
  SHA1_Update(&c, inner, 20);
  SHA1_Final(out, &c);
}

/* srtpXor(t, buf, offset, length, ssrc, indexHigh, indexLow): the AES-CM keystream XORed in place. */
static napi_value srtp_xor(napi_env env, napi_callback_info info) {
  size_t argc = 7, bl;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  srtp_t *t;
  uint32_t off, len, ssrc, hi, lo;
  CHECK(napi_get_value_external(env, argv[0], (void **)&t));
  uint8_t *buf = buffer_data(env, argv[1], &bl);
  CHECK(napi_get_value_uint32(env, argv[2], &off));
  CHECK(napi_get_value_uint32(env, argv[3], &len));
  CHECK(napi_get_value_uint32(env, argv[4], &ssrc));
  CHECK(napi_get_value_uint32(env, argv[5], &hi));
  CHECK(napi_get_value_uint32(env, argv[6], &lo));
  if (!buf || (size_t)off + len > bl) {
    napi_throw_range_error(env, NULL, "media_io: srtpXor outside the buffer");
    return NULL;
  }
  /* §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16); the block counter is the last 16 bits. */
  uint8_t iv[16] = {0}, x[4];
  memcpy(iv, t->salt, 14);
  put32(x, ssrc);
  for (int i = 0; i < 4; i++) iv[4 + i] ^= x[i];
  put32(x, hi);
  for (int i = 0; i < 4; i++) iv[8 + i] ^= x[i];
  iv[12] ^= (uint8_t)(lo >> 8);
  iv[13] ^= (uint8_t)lo;
  int outl;
  if (len > 0 && (EVP_EncryptInit_ex(t->aes, NULL, NULL, NULL, iv) != 1 || EVP_EncryptUpdate(t->aes, buf + off, &outl, buf + off, (int)len) != 1)) {
    napi_throw_error(env, NULL, "media_io: AES-CM failed");
    return NULL;
  }
  return NULL;
}

/*
 * srtpTag(t, buf, length, trailer, tagLength, verify): verify = false writes
 * the tag of buf[0, length) at buf[length] and returns true; verify = true
 * compares it with the tag there, in constant time.
 */
static napi_value srtp_tag(napi_env env, napi_callback_info info) {
  size_t argc = 6, bl;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  srtp_t *t;
  uint32_t len, tag_len;
  int64_t trailer;
  bool verify;
  CHECK(napi_get_value_external(env, argv[0], (void **)&t));
  uint8_t *buf = buffer_data(env, argv[1], &bl);
  CHECK(napi_get_value_uint32(env, argv[2], &len));
  CHECK(napi_get_value_int64(env, argv[3], &trailer));
  CHECK(napi_get_value_uint32(env, argv[4], &tag_len));
  CHECK(napi_get_value_bool(env, argv[5], &verify));
  if (!buf || tag_len > 20 || (size_t)len + tag_len > bl) {
    napi_throw_range_error(env, NULL, "media_io: srtpTag outside the buffer");
    return NULL;
  }
  uint8_t mac[20];
  srtp_hmac(t, buf, len, trailer, mac);
  bool ok = true;
  if (verify) ok = CRYPTO_memcmp(mac, buf + len, tag_len) == 0;
  else memcpy(buf + len, mac, tag_len);
  napi_value out;
  CHECK(napi_get_boolean(env, ok, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"createContext", NULL, create_context, NULL, NULL, NULL, napi_default, NULL},
    {"open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL},
    {"flush", NULL, flush, NULL, NULL, NULL, napi_default, NULL},
    {"sendNow", NULL, send_now, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL},
    {"pton", NULL, pton, NULL, NULL, NULL, napi_default, NULL},
    {"srtpCreate", NULL, srtp_create, NULL, NULL, NULL, napi_default, NULL},
    {"srtpXor", NULL, srtp_xor, NULL, NULL, NULL, napi_default, NULL},
    {"srtpTag", NULL, srtp_tag, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
