/* The storm benchmark's load generator: thousands of devices in one process, each doing
 * what the firmware does on connect (TLS 1.3 with its own certificate, Hello, enrollment
 * with the bootstrap identity, then the operational session's heartbeats), with the
 * firmware's own protocol codec (src/proto) and the system's OpenSSL.
 *
 * Why it exists: simulated devices share the machine's cores with the gateway they load,
 * where real ones each have a CPU. The Python simulator (`wasmbed device simulate`) spent
 * ~5 ms of CPU per device to enroll and connect, nearly half of a 2,000-device storm's CPU
 * on 2 cores; this spends what OpenSSL's client handshakes cost. It answers heartbeat acks
 * only: deployments and everything else a device does are the Python simulator's and the
 * firmware's (anything else gets an Error reply).
 *
 *   loadgen --gateway HOST:PORT [--server-name NAME] [--stats-file F] [--ready-file F]
 *           [--concurrency N] [--reconnect-min S] [--reconnect-max S] DIR...
 *
 * DIR: a device state directory (ca.pem, bootstrap.pem, bootstrap.key, name; see
 * wasmbed/device/provision.py) or a directory of them. Enrolling writes operational.pem
 * there, as the Python simulator does. SIGTERM or SIGINT stops it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "wb_proto.h"
#include "wb_schema.h"

#define RX_MAX_FRAME 4092u /* announced in Hello, as the firmware does */
#define RX_CAP (RX_MAX_FRAME + WB_HEADER_SIZE)
#define TX_CAP 2048
#define REPLY_TIMEOUT_S 15.0
#define ENROLL_TIMEOUT_S 90.0 /* as the Python simulator: enrollments queue at the API */
#define HANDSHAKE_TIMEOUT_S 15.0
#define BOARD "virtual"
#define FIRMWARE "loadgen-0.1.0"
#define WASM_RAM (256u * 1024u)
#define MAX_MODULE (64u * 1024u)

typedef enum { S_WAIT, S_CONNECTING, S_HANDSHAKE, S_HELLO, S_ENROLL, S_CONNECTED, S_COUNT } state_t;
static const char *const LABELS[S_COUNT] = {"waiting", "connecting", "handshaking", "hello",
                                            "enrolling", "connected"};

typedef struct {
    char *dir; /* where operational.pem goes */
    SSL_CTX *ctx;
    X509 *cert; /* bootstrap, or operational once enrolled */
    EVP_PKEY *key;
    unsigned char *spki;
    int spki_len;
    bool enrolled;
    int fd;
    SSL *ssl;
    state_t st;
    bool in_slot, want_out;
    double next_at;  /* S_WAIT: next attempt; S_CONNECTED: next heartbeat */
    double deadline; /* connecting to S_ENROLL: give up after */
    double last_ack;
    int attempt;
    uint32_t next_id, version, beat_id;
    double interval, beat_sent;
    uint8_t rx[RX_CAP];
    size_t rx_len;
    uint8_t tx[TX_CAP];
    size_t tx_len; /* a record OpenSSL asked us to write again (WANT_WRITE) */
} device_t;

static device_t *devs;
static size_t n_devs;
static int ep;
static struct sockaddr_in gateway;
static const char *server_name = "localhost";
static bool server_is_ip;
static int concurrency = 32, in_flight;
static double backoff_min = 0.2, backoff_max = 5.0;
static volatile sig_atomic_t stopping;
static double *rtts;
static size_t n_rtts, cap_rtts;
static unsigned long failures[S_COUNT];
static char last_failure[256];

static double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_unix(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "loadgen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

#define PATH_CAP 4200

/* dir/name, or exit saying which path is too long */
__attribute__((noinline)) static void path_of(char out[PATH_CAP], const char *dir,
                                              const char *name) {
    int n = snprintf(out, PATH_CAP, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_CAP) die("path too long", dir);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read", path);
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* --- TLS contexts: one per trusted CA (every device of a fleet trusts the same) -------- */

typedef struct {
    char *ca;
    SSL_CTX *ctx;
} ctx_entry_t;
static ctx_entry_t ctxs[8];
static int n_ctxs;

static SSL_CTX *context_for(const char *ca_pem, size_t len) {
    for (int i = 0; i < n_ctxs; i++)
        if (strcmp(ctxs[i].ca, ca_pem) == 0) return ctxs[i].ctx;
    if (n_ctxs == 8) die("more than 8 different ca.pem files", NULL);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    BIO *bio = BIO_new_mem_buf(ca_pem, (int)len);
    X509 *ca;
    int added = 0;
    while ((ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        X509_STORE_add_cert(store, ca);
        X509_free(ca);
        added++;
    }
    ERR_clear_error();
    BIO_free(bio);
    if (!added) die("no certificate in a ca.pem", NULL);
    ctxs[n_ctxs].ca = strdup(ca_pem);
    ctxs[n_ctxs].ctx = ctx;
    return ctxs[n_ctxs++].ctx;
}

/* --- devices -------------------------------------------------------------------------- */

static X509 *load_cert(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return cert;
}

/* One DER element at *p (before end): its content, and *p moved past it; false when
 * malformed. */
static bool der_next(const unsigned char **p, const unsigned char *end, unsigned char *tag,
                     const unsigned char **content, size_t *len) {
    if (end - *p < 2) return false;
    *tag = (*p)[0];
    size_t n = (*p)[1], head = 2;
    if (n & 0x80) {
        size_t bytes = n & 0x7f;
        if (bytes == 0 || bytes > 4 || (size_t)(end - *p) < 2 + bytes) return false;
        n = 0;
        for (size_t i = 0; i < bytes; i++) n = (n << 8) | (*p)[2 + i];
        head += bytes;
    }
    if ((size_t)(end - *p) - head < n) return false;
    *content = *p + head;
    *len = n;
    *p += head + n;
    return true;
}

/* The certificate's SubjectPublicKeyInfo, byte for byte as issued: what EnrollRequest
 * carries and the gateway compares with the session's certificate (a re-encoding of the
 * key may differ between TLS libraries). */
static bool spki_of(X509 *cert, unsigned char **out, int *out_len) {
    unsigned char *der = NULL;
    int der_len = i2d_X509(cert, &der);
    if (der_len <= 0) return false;
    const unsigned char *p = der, *end = der + der_len, *c = NULL, *start = NULL;
    unsigned char tag;
    size_t len;
    bool ok = der_next(&p, end, &tag, &c, &len) && tag == 0x30; /* Certificate */
    if (ok) {
        p = c;
        ok = der_next(&p, end, &tag, &c, &len) && tag == 0x30; /* TBSCertificate */
    }
    if (ok) {
        const unsigned char *tbs_end = c + len;
        p = c;
        if (p < tbs_end && *p == 0xa0) ok = der_next(&p, tbs_end, &tag, &c, &len); /* version */
        for (int i = 0; ok && i < 5; i++) /* serial, signature, issuer, validity, subject */
            ok = der_next(&p, tbs_end, &tag, &c, &len);
        start = p;
        ok = ok && der_next(&p, tbs_end, &tag, &c, &len) && tag == 0x30;
    }
    if (ok) {
        *out_len = (int)(p - start);
        *out = malloc((size_t)*out_len);
        memcpy(*out, start, (size_t)*out_len);
    }
    OPENSSL_free(der);
    return ok;
}

static bool is_device_dir(const char *dir) {
    char path[PATH_CAP];
    path_of(path, dir, "bootstrap.pem");
    return access(path, R_OK) == 0;
}

static void add_device(const char *dir) {
    static size_t cap;
    if (n_devs == cap) {
        cap = cap ? cap * 2 : 1024;
        devs = realloc(devs, cap * sizeof *devs);
        if (!devs) die("out of memory", NULL);
    }
    device_t *d = &devs[n_devs++];
    memset(d, 0, sizeof *d);
    if (!(d->dir = strdup(dir))) die("out of memory", NULL);
    char path[PATH_CAP];
    size_t len;
    path_of(path, dir, "ca.pem");
    char *ca = read_file(path, &len);
    if (!ca) die("cannot read", path);
    d->ctx = context_for(ca, len);
    free(ca);
    path_of(path, dir, "bootstrap.key");
    FILE *f = fopen(path, "r");
    if (!f || !(d->key = PEM_read_PrivateKey(f, NULL, NULL, NULL))) die("cannot read key", path);
    fclose(f);
    path_of(path, dir, "bootstrap.pem");
    if (!(d->cert = load_cert(path))) die("cannot read certificate", path);
    if (!spki_of(d->cert, &d->spki, &d->spki_len)) die("cannot read the public key of", path);
    path_of(path, dir, "operational.pem");
    X509 *op = load_cert(path);
    if (op) {
        X509_free(d->cert);
        d->cert = op;
        d->enrolled = true;
    }
    d->fd = -1;
    d->st = S_WAIT;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void add_dir(const char *dir) {
    if (is_device_dir(dir)) {
        add_device(dir);
        return;
    }
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) die("cannot list", dir);
    for (int i = 0; i < n; i++) {
        char sub[PATH_CAP];
        path_of(sub, dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && is_device_dir(sub)) add_device(sub);
        free(names[i]);
    }
    free(names);
}

static void set_events(device_t *d, bool out) {
    if (d->fd < 0 || out == d->want_out) return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = d};
    epoll_ctl(ep, EPOLL_CTL_MOD, d->fd, &ev);
    d->want_out = out;
}

static void release_slot(device_t *d) {
    if (d->in_slot) {
        d->in_slot = false;
        in_flight--;
    }
}

static void close_link(device_t *d) {
    release_slot(d);
    if (d->ssl) {
        SSL_free(d->ssl);
        d->ssl = NULL;
    }
    if (d->fd >= 0) {
        close(d->fd); /* also leaves the epoll set */
        d->fd = -1;
    }
    d->rx_len = d->tx_len = 0;
    d->want_out = false;
}

static void fail(device_t *d, double now, const char *why) {
    failures[d->st]++;
    snprintf(last_failure, sizeof last_failure, "%s: %s", LABELS[d->st], why);
    close_link(d);
    double base = backoff_min * pow(2.0, d->attempt);
    if (base > backoff_max) base = backoff_max;
    if (d->attempt < 16) d->attempt++;
    d->st = S_WAIT;
    d->next_at = now + base * (0.5 + 0.5 * ((double)rand() / RAND_MAX));
}

static const char *tls_reason(void) {
    unsigned long e = ERR_get_error();
    static char buf[160];
    if (!e) return "connection closed";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

static void start(device_t *d, double now) {
    d->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0) {
        fail(d, now, strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    d->in_slot = true;
    in_flight++;
    d->st = S_CONNECTING;
    d->deadline = now + HANDSHAKE_TIMEOUT_S;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = d};
    d->want_out = true;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, d->fd, &ev) < 0) {
        fail(d, now, strerror(errno));
        return;
    }
    if (connect(d->fd, (struct sockaddr *)&gateway, sizeof gateway) < 0 && errno != EINPROGRESS)
        fail(d, now, strerror(errno));
}

/* the next devices whose attempt is due, while handshake slots are free */
static void start_due(double now) {
    static size_t cursor;
    for (size_t i = 0; i < n_devs && in_flight < concurrency; i++) {
        device_t *d = &devs[(cursor + i) % n_devs];
        if (d->st == S_WAIT && d->next_at <= now) {
            start(d, now);
            cursor = (cursor + i + 1) % n_devs;
        }
    }
}

/* 0 written (or queued for EPOLLOUT), -1 failed */
static int flush_tx(device_t *d) {
    if (!d->tx_len) return 0;
    int n = SSL_write(d->ssl, d->tx, (int)d->tx_len);
    if (n > 0) {
        d->tx_len = 0;
        set_events(d, false);
        return 0;
    }
    int err = SSL_get_error(d->ssl, n);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
        set_events(d, err == SSL_ERROR_WANT_WRITE);
        return 0;
    }
    return -1;
}

static int send_msg(device_t *d, wb_msg_t *m) {
    if (d->tx_len) return -1; /* one message in flight at a time: the exchanges are small */
    int n = wb_encode(m, d->tx + WB_HEADER_SIZE, TX_CAP - WB_HEADER_SIZE);
    if (n < 0) return -1;
    wb_frame_header(d->tx, (uint32_t)n);
    d->tx_len = (size_t)n + WB_HEADER_SIZE;
    return flush_tx(d);
}

static void msg_init(device_t *d, wb_msg_t *m, uint32_t type) {
    wb_msg_init(m, type, d->next_id++);
    m->version = d->version;
}

static int send_hello(device_t *d) {
    wb_msg_t m;
    d->version = 1; /* Hello and HelloAck travel in a version-1 envelope */
    msg_init(d, &m, WB_MSG_HELLO);
    m.f[WB_HELLO_VERSIONS] = (wb_value_t){.present = true, .n = 2, .items = {1, 2}};
    wb_set_str(&m, WB_HELLO_FIRMWARE, FIRMWARE);
    wb_set_str(&m, WB_HELLO_BOARD, BOARD);
    wb_set_uint(&m, WB_HELLO_MAX_FRAME, RX_MAX_FRAME);
    return send_msg(d, &m);
}

static int send_heartbeat(device_t *d, double now) {
    wb_msg_t m;
    msg_init(d, &m, WB_MSG_HEARTBEAT);
    d->beat_id = m.msg_id;
    /* the clock now, not the batch's `now`: the ack can come within this same batch (the
     * frame loop reads on while bytes are there), and a round trip timed from the batch's
     * start would read 0 (seen in CI) or too short */
    d->beat_sent = now_mono();
    wb_set_uint(&m, WB_HEARTBEAT_UPTIME_MS, (uint64_t)(now * 1000.0));
    wb_set_uint(&m, WB_HEARTBEAT_FREE_MEMORY, WASM_RAM);
    m.f[WB_HEARTBEAT_RUNNING_APPS] = (wb_value_t){.present = true, .n = 0};
    d->next_at = now + d->interval;
    return send_msg(d, &m);
}

static void save_operational(device_t *d) {
    char path[PATH_CAP], tmp[PATH_CAP + 8];
    path_of(path, d->dir, "operational.pem");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    PEM_write_X509(f, d->cert);
    fclose(f);
    rename(tmp, path); /* never half a certificate */
}

static void record_rtt(double rtt) {
    if (n_rtts == cap_rtts) {
        cap_rtts = cap_rtts ? cap_rtts * 2 : 4096;
        rtts = realloc(rtts, cap_rtts * sizeof *rtts);
        if (!rtts) die("out of memory", NULL);
    }
    rtts[n_rtts++] = rtt;
}

/* 0 handled, -1 the session ends (fail() was called) */
static int handle(device_t *d, wb_msg_t *m, double now) {
    if (m->type == WB_MSG_ERROR) {
        char text[200];
        wb_span_t s = m->f[WB_ERROR_MESSAGE].s;
        snprintf(text, sizeof text, "gateway error %llu: %.*s",
                 (unsigned long long)m->f[WB_ERROR_CODE].u, (int)s.len, (const char *)s.ptr);
        fail(d, now, text);
        return -1;
    }
    switch (d->st) {
    case S_HELLO: {
        if (m->type != WB_MSG_HELLO_ACK) break;
        d->version = m->f[WB_HELLO_ACK_VERSION].u >= 2 ? 2 : 1;
        d->interval = (double)m->f[WB_HELLO_ACK_HEARTBEAT_INTERVAL_S].u;
        if (d->interval <= 0) d->interval = 30;
        if (d->enrolled) {
            d->st = S_CONNECTED;
            d->attempt = 0;
            d->last_ack = now;
            return send_heartbeat(d, now) == 0 ? 0 : (fail(d, now, "write failed"), -1);
        }
        wb_msg_t req;
        msg_init(d, &req, WB_MSG_ENROLL_REQUEST);
        wb_set_span(&req, WB_ENROLL_REQUEST_PUBLIC_KEY, d->spki, (size_t)d->spki_len);
        wb_set_str(&req, WB_ENROLL_REQUEST_BOARD, BOARD);
        wb_set_str(&req, WB_ENROLL_REQUEST_FIRMWARE_VERSION, FIRMWARE);
        wb_set_uint(&req, WB_ENROLL_REQUEST_WASM_RAM, WASM_RAM);
        wb_set_uint(&req, WB_ENROLL_REQUEST_MAX_MODULE_SIZE, MAX_MODULE);
        d->st = S_ENROLL;
        d->deadline = now + ENROLL_TIMEOUT_S;
        if (send_msg(d, &req)) {
            fail(d, now, "write failed");
            return -1;
        }
        return 0;
    }
    case S_ENROLL: {
        if (m->type != WB_MSG_ENROLL_RESPONSE) break;
        wb_span_t der = m->f[WB_ENROLL_RESPONSE_CERTIFICATE].s;
        const unsigned char *p = der.ptr;
        X509 *cert = m->f[WB_ENROLL_RESPONSE_ACCEPTED].u && der.len
                         ? d2i_X509(NULL, &p, (long)der.len) : NULL;
        if (!cert) {
            char why[200];
            wb_span_t r = m->f[WB_ENROLL_RESPONSE_REASON].s;
            if (m->f[WB_ENROLL_RESPONSE_ACCEPTED].u)
                snprintf(why, sizeof why, "the issued certificate is unreadable");
            else
                snprintf(why, sizeof why, "enrollment rejected: %.*s", (int)r.len,
                         (const char *)r.ptr);
            fail(d, now, why);
            return -1;
        }
        X509_free(d->cert);
        d->cert = cert;
        d->enrolled = true;
        save_operational(d);
        SSL_shutdown(d->ssl); /* close_notify, then at once again with the new identity */
        close_link(d);
        d->st = S_WAIT;
        d->attempt = 0;
        d->next_at = now;
        return -1;
    }
    case S_CONNECTED:
        if (m->type == WB_MSG_HEARTBEAT_ACK) {
            if (m->f[WB_HEARTBEAT_ACK_INTERVAL_S].present &&
                m->f[WB_HEARTBEAT_ACK_INTERVAL_S].u > 0)
                d->interval = (double)m->f[WB_HEARTBEAT_ACK_INTERVAL_S].u;
            d->last_ack = now;
            if (m->msg_id == d->beat_id && d->beat_sent > 0) {
                record_rtt(now_mono() - d->beat_sent);
                d->beat_sent = 0;
            }
            return 0;
        }
        if (m->type == WB_MSG_OUTPUT_ACK) return 0;
        wb_msg_t reply; /* a deployment or a stop: not what this generator is for */
        wb_msg_init(&reply, WB_MSG_ERROR, m->msg_id);
        reply.version = d->version;
        wb_set_uint(&reply, WB_ERROR_CODE, WB_ERROR_CODE_INTERNAL);
        wb_set_str(&reply, WB_ERROR_MESSAGE, "the load generator runs no modules");
        if (send_msg(d, &reply)) {
            fail(d, now, "write failed");
            return -1;
        }
        return 0;
    default:
        break;
    }
    fail(d, now, "unexpected message");
    return -1;
}

static void read_frames(device_t *d, double now) {
    for (;;) {
        if (d->rx_len == RX_CAP) {
            fail(d, now, "frame larger than announced");
            return;
        }
        int n = SSL_read(d->ssl, d->rx + d->rx_len, (int)(RX_CAP - d->rx_len));
        if (n <= 0) {
            int err = SSL_get_error(d->ssl, n);
            if (err == SSL_ERROR_WANT_READ) {
                if (!d->tx_len) set_events(d, false);
                return;
            }
            if (err == SSL_ERROR_WANT_WRITE) { /* a read that writes: resumed on EPOLLOUT */
                set_events(d, true);
                return;
            }
            fail(d, now, err == SSL_ERROR_ZERO_RETURN ? "closed by the gateway" : tls_reason());
            return;
        }
        d->rx_len += (size_t)n;
        while (d->rx_len >= WB_HEADER_SIZE) {
            uint32_t len = wb_frame_length(d->rx);
            if (wb_frame_check(len, RX_MAX_FRAME) != WB_OK) {
                fail(d, now, "bad frame length");
                return;
            }
            if (d->rx_len < len + WB_HEADER_SIZE) break;
            wb_msg_t m;
            if (wb_decode(d->rx + WB_HEADER_SIZE, len, &m) != WB_OK) {
                fail(d, now, "malformed frame");
                return;
            }
            /* the message's spans point into rx: handled, then dropped (unless handle()
             * ended the session, which empties rx) */
            if (handle(d, &m, now) < 0) return;
            size_t frame = len + WB_HEADER_SIZE;
            memmove(d->rx, d->rx + frame, d->rx_len - frame);
            d->rx_len -= frame;
        }
    }
}

static void step(device_t *d, uint32_t events, double now) {
    if (d->st == S_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fail(d, now, strerror(err));
            return;
        }
        if (!(events & (EPOLLOUT | EPOLLIN))) return;
        d->ssl = SSL_new(d->ctx);
        SSL_use_certificate(d->ssl, d->cert);
        SSL_use_PrivateKey(d->ssl, d->key);
        SSL_set_tlsext_host_name(d->ssl, server_name);
        if (server_is_ip)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(d->ssl), server_name);
        else
            SSL_set1_host(d->ssl, server_name);
        SSL_set_fd(d->ssl, d->fd);
        d->st = S_HANDSHAKE;
    }
    if (d->st == S_HANDSHAKE) {
        int r = SSL_connect(d->ssl);
        if (r != 1) {
            int err = SSL_get_error(d->ssl, r);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
                set_events(d, err == SSL_ERROR_WANT_WRITE);
            else
                fail(d, now, tls_reason());
            return;
        }
        release_slot(d);
        set_events(d, false);
        d->st = S_HELLO;
        d->deadline = now + REPLY_TIMEOUT_S;
        d->next_id = 1;
        if (send_hello(d)) fail(d, now, "write failed");
        return;
    }
    if (events & EPOLLOUT && d->tx_len && flush_tx(d)) {
        fail(d, now, tls_reason());
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR) || (events & EPOLLOUT && !d->tx_len))
        read_frames(d, now);
}

/* timers: attempts due, deadlines, heartbeats and their acks */
static void tick(double now) {
    for (size_t i = 0; i < n_devs; i++) {
        device_t *d = &devs[i];
        switch (d->st) {
        case S_CONNECTING:
        case S_HANDSHAKE:
        case S_HELLO:
        case S_ENROLL:
            if (now >= d->deadline) fail(d, now, "timed out");
            break;
        case S_CONNECTED:
            if (now - d->last_ack > 3 * d->interval + 2)
                fail(d, now, "no heartbeat ack");
            else if (now >= d->next_at && !d->tx_len && send_heartbeat(d, now))
                fail(d, now, "write failed");
            break;
        default:
            break;
        }
    }
    start_due(now);
}

static void count_states(size_t counts[S_COUNT]) {
    memset(counts, 0, S_COUNT * sizeof *counts);
    for (size_t i = 0; i < n_devs; i++) counts[devs[i].st]++;
}

static void write_stats(FILE *f, const size_t counts[S_COUNT]) {
    fprintf(f, "{\"t\": %.3f, \"states\": {", now_unix());
    bool first = true;
    for (int s = 0; s < S_COUNT; s++) {
        if (!counts[s]) continue;
        fprintf(f, "%s\"%s\": %zu", first ? "" : ", ", LABELS[s], counts[s]);
        first = false;
    }
    fprintf(f, "}, \"heartbeatRttS\": [");
    for (size_t i = 0; i < n_rtts; i++) fprintf(f, "%s%.6f", i ? ", " : "", rtts[i]);
    fprintf(f, "]}\n");
    fflush(f);
    n_rtts = 0;
}

static void write_ready(const char *path) {
    char tmp[PATH_CAP + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) die("cannot write", tmp);
    fprintf(f, "{\"devices\": %zu, \"gateway\": \"%s:%d\", \"pid\": %d}\n", n_devs,
            inet_ntoa(gateway.sin_addr), ntohs(gateway.sin_port), (int)getpid());
    fclose(f);
    if (rename(tmp, path)) die("cannot write", path);
}

static void usage(void) {
    fprintf(stderr, "usage: loadgen --gateway HOST:PORT [--server-name NAME] [--stats-file F] "
                    "[--ready-file F] [--concurrency N] [--reconnect-min S] "
                    "[--reconnect-max S] DIR...\n");
    exit(2);
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"gateway", required_argument, 0, 'g'},     {"server-name", required_argument, 0, 'n'},
        {"stats-file", required_argument, 0, 's'},  {"ready-file", required_argument, 0, 'r'},
        {"concurrency", required_argument, 0, 'c'}, {"reconnect-min", required_argument, 0, 'm'},
        {"reconnect-max", required_argument, 0, 'M'}, {0, 0, 0, 0}};
    const char *gw = NULL, *stats_path = NULL, *ready_path = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'g': gw = optarg; break;
        case 'n': server_name = optarg; break;
        case 's': stats_path = optarg; break;
        case 'r': ready_path = optarg; break;
        case 'c': concurrency = atoi(optarg); break;
        case 'm': backoff_min = atof(optarg); break;
        case 'M': backoff_max = atof(optarg); break;
        default: usage();
        }
    }
    if (!gw || optind >= argc || concurrency < 1) usage();
    char host[256];
    const char *colon = strrchr(gw, ':');
    if (!colon || (size_t)(colon - gw) >= sizeof host) usage();
    memcpy(host, gw, (size_t)(colon - gw));
    host[colon - gw] = 0;
    gateway.sin_family = AF_INET;
    gateway.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &gateway.sin_addr) != 1)
        die("--gateway takes an IPv4 address and a port", gw);
    struct in_addr probe;
    server_is_ip = inet_pton(AF_INET, server_name, &probe) == 1;

    for (int i = optind; i < argc; i++) add_dir(argv[i]);
    if (!n_devs) die("no device directories (each holds bootstrap.pem) under", argv[optind]);
    struct rlimit files; /* a socket per device: lift the soft limit (often 1,024) */
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < n_devs + 64)
        fprintf(stderr, "loadgen: %zu devices but %lu open files allowed: raise `ulimit -n`\n",
                n_devs, (unsigned long)files.rlim_cur);
    srand((unsigned)getpid());
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    ep = epoll_create1(EPOLL_CLOEXEC);
    FILE *stats = stats_path ? fopen(stats_path, "a") : NULL;
    if (stats_path && !stats) die("cannot write", stats_path);
    printf("loadgen: %zu devices, gateway %s (server name %s), %d handshakes at a time\n",
           n_devs, gw, server_name, concurrency);
    fflush(stdout);
    if (ready_path) write_ready(ready_path); /* the devices' first attempts begin now */

    struct epoll_event evs[512];
    double now = now_mono(), next_tick = now, next_stats = now + 1.0;
    size_t shown[S_COUNT] = {0}, counts[S_COUNT];
    tick(now);
    while (!stopping) {
        int timeout = (int)((next_tick - now) * 1000) + 1;
        int n = epoll_wait(ep, evs, 512, timeout < 0 ? 0 : timeout);
        now = now_mono();
        for (int i = 0; i < n; i++) step(evs[i].data.ptr, evs[i].events, now);
        if (n > 0) start_due(now); /* slots a handshake freed */
        if (now >= next_tick) {
            tick(now);
            next_tick = now + 0.01;
        }
        if (now >= next_stats) {
            count_states(counts);
            if (stats) write_stats(stats, counts);
            if (memcmp(counts, shown, sizeof shown)) {
                memcpy(shown, counts, sizeof shown);
                for (int s = 0; s < S_COUNT; s++)
                    if (counts[s]) printf("%zu %s  ", counts[s], LABELS[s]);
                unsigned long failed = 0;
                for (int s = 0; s < S_COUNT; s++) failed += failures[s];
                if (failed) printf("(%lu failed attempts; last: %s)", failed, last_failure);
                printf("\n");
                fflush(stdout);
            }
            next_stats = now + 1.0;
        }
    }
    for (size_t i = 0; i < n_devs; i++) close_link(&devs[i]);
    printf("loadgen: stopped\n");
    return 0;
}
