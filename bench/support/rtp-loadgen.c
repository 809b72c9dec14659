/*
 * RTP load generator for bench/relay-vs-rtpengine.ts, in its own process so
 * that the relay under test is the only thing measured in the relay's CPU
 * time. Built at bench time with the system's C compiler (gcc), nothing else.
 *
 * It binds two UDP sockets on 127.0.0.1 ("A", the callers, and "B", the
 * called parties), prints "ports <A> <B>" and then obeys lines on stdin:
 *
 *   run <packets file> <rate pps> <quiet ms>
 *       sends every packet of the file, paced at <rate> packets/s with
 *       sendmmsg, while counting what the relay sends back to A and B with
 *       recvmmsg; after the last packet, keeps counting until nothing has
 *       arrived for <quiet ms>. Prints one JSON line with the counts.
 *   runfor <packets file> <rate pps> <tail ms>
 *       the same, but counts for exactly <tail ms> after the last packet
 *       and stops: for a relay that never falls silent (a conference
 *       room sends its mix every 20 ms whether anyone talks or not).
 *   quit
 *
 * The packets file (written by the benchmark, SRTP already applied, since
 * every SRTP packet is unique) is a sequence of records:
 *   u8 side (0: from A, 1: from B), u8 unused, u16 destination port,
 *   u16 length, then <length> bytes; all integers little-endian.
 * Only RTP with payload type 0 (PCMU) is counted on receipt, so the relays'
 * RTCP never inflates the figures.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int open_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) { perror("socket"); exit(1); }
  int size = 8 << 20;
  /* FORCE passes rmem_max when we may; otherwise take what the kernel allows. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); exit(1); }
  return fd;
}

static int local_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  return ntohs(a.sin_port);
}

struct record { int side; struct sockaddr_in to; uint8_t *data; uint16_t len; };

static unsigned char rx_bufs[BATCH][2048];

/* Counts PCMU RTP datagrams waiting on fd; returns how many were read in all. */
static long drain(int fd, long *pcmu) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  long total = 0;
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = rx_bufs[i];
      iov[i].iov_len = sizeof rx_bufs[i];
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return total;
    total += n;
    for (int i = 0; i < n; i++) {
      if (msgs[i].msg_len >= 12 && (rx_bufs[i][0] >> 6) == 2 && (rx_bufs[i][1] & 0x7f) == 0) (*pcmu)++;
    }
    if (n < BATCH) return total;
  }
}

/* Sends a batch of one side's records with sendmmsg; returns how many were handed to the kernel. */
static long send_batch(int fd, struct record **batch, int count) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  for (int i = 0; i < count; i++) {
    iov[i].iov_base = batch[i]->data;
    iov[i].iov_len = batch[i]->len;
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &batch[i]->to;
    msgs[i].msg_hdr.msg_namelen = sizeof batch[i]->to;
  }
  long sent = 0;
  while (sent < count) {
    int n = sendmmsg(fd, msgs + sent, count - sent, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == ENOBUFS) { struct pollfd p = { fd, POLLOUT, 0 }; poll(&p, 1, 1); continue; }
      /* A refused datagram (ICMP from a closed port) is a lost packet, not a stop. */
      if (errno == ECONNREFUSED) { sent++; continue; }
      perror("sendmmsg");
      exit(1);
    }
    sent += n;
  }
  return sent;
}

static void run(int fds[2], const char *path, double rate, double quiet_ms, int fixed_tail) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  struct stat st;
  fstat(fileno(f), &st);
  uint8_t *file = malloc(st.st_size);
  if (fread(file, 1, st.st_size, f) != (size_t)st.st_size) { perror("fread"); exit(1); }
  fclose(f);
  long count = 0;
  for (off_t at = 0; at + 6 <= st.st_size; count++) at += 6 + (file[at + 4] | file[at + 5] << 8);
  struct record *records = calloc(count, sizeof *records);
  off_t at = 0;
  for (long i = 0; i < count; i++) {
    records[i].side = file[at];
    records[i].to.sin_family = AF_INET;
    records[i].to.sin_port = htons(file[at + 2] | file[at + 3] << 8);
    records[i].to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    records[i].len = file[at + 4] | file[at + 5] << 8;
    records[i].data = file + at + 6;
    at += 6 + records[i].len;
  }

  long sent[2] = { 0, 0 }, received[2] = { 0, 0 }, datagrams[2] = { 0, 0 };
  long next = 0;
  struct pollfd pfds[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
  double start = now_ms(), last_rx = start, end_send = 0;
  for (;;) {
    double t = now_ms();
    if (next < count) {
      long due = (long)((t - start) * rate / 1000.0);
      if (due > count) due = count;
      while (next < due) {
        struct record *batch[2][BATCH];
        int n[2] = { 0, 0 };
        while (next < due && n[0] < BATCH && n[1] < BATCH) {
          struct record *r = &records[next++];
          batch[r->side][n[r->side]++] = r;
        }
        for (int s = 0; s < 2; s++) if (n[s]) sent[s] += send_batch(fds[s], batch[s], n[s]);
      }
      if (next == count) end_send = now_ms();
    }
    for (int s = 0; s < 2; s++) {
      long got = drain(fds[s], &received[s]);
      datagrams[s] += got;
      if (got) last_rx = now_ms();
    }
    if (next == count && now_ms() - (last_rx > end_send && !fixed_tail ? last_rx : end_send) >= quiet_ms) break;
    /* Sleep until the next packet is due or something arrives: never spin a core the relay needs. */
    struct timespec timeout = { 0, 500000 };
    ppoll(pfds, 2, &timeout, NULL);
  }
  printf("{\"sentA\":%ld,\"sentB\":%ld,\"receivedA\":%ld,\"receivedB\":%ld,\"datagramsA\":%ld,\"datagramsB\":%ld,\"sendMs\":%.1f}\n", sent[0], sent[1], received[0], received[1], datagrams[0], datagrams[1], end_send - start);
  fflush(stdout);
  free(records);
  free(file);
}

int main(void) {
  int fds[2] = { open_socket(), open_socket() };
  printf("ports %d %d\n", local_port(fds[0]), local_port(fds[1]));
  fflush(stdout);
  char line[4096], path[4000];
  double rate, quiet;
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "quit", 4) == 0) break;
    if (sscanf(line, "runfor %3999s %lf %lf", path, &rate, &quiet) == 3) {
      run(fds, path, rate, quiet, 1);
    } else if (sscanf(line, "run %3999s %lf %lf", path, &rate, &quiet) == 3) {
      run(fds, path, rate, quiet, 0);
    } else {
      fprintf(stderr, "rtp-loadgen: unknown command: %s", line);
      return 2;
    }
  }
  return 0;
}
