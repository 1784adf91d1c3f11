/* Host test of src/tls/record_sync.c: the previous session's bytes before a server's first
 * record are skipped, whatever the reads' sizes; from that record on every byte passes
 * unchanged; a stream that is not TLS ends the attempt after RECORD_SYNC_MAX_SKIP bytes.
 * Prints a line per failed check and a closing "N passed, N failed". */
#include <stdio.h>
#include <string.h>

#include "record_sync.h"

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s\n", what);
    }
}

/* the link: a byte string handed out `chunk` bytes per read, with an empty read between */
static const uint8_t *link_data;
static size_t link_len, link_pos, link_chunk;
static int link_empty_turn;

static size_t link_read(uint8_t *buf, size_t cap) {
    if ((link_empty_turn ^= 1) == 0 || link_pos >= link_len) return 0;
    size_t n = link_len - link_pos;
    if (n > link_chunk) n = link_chunk;
    if (n > cap) n = cap;
    memcpy(buf, link_data + link_pos, n);
    link_pos += n;
    return n;
}

/* Reads everything through a fresh sync in reads of `cap`; returns what came out, or -1. */
static int run(const uint8_t *data, size_t len, size_t chunk, size_t cap, uint8_t *out,
               record_sync_t *s) {
    link_data = data, link_len = len, link_pos = 0, link_chunk = chunk, link_empty_turn = 0;
    record_sync_reset(s);
    size_t got = 0;
    for (int idle = 0; idle < 4;) {
        int n = record_sync_read(s, link_read, out + got, cap);
        if (n < 0) return -1;
        got += (size_t)n;
        idle = (n || link_pos < link_len) ? 0 : idle + 1;
    }
    return (int)got;
}

static const uint8_t SERVER_HELLO[] = {0x16, 0x03, 0x03, 0x00, 0x06, 0x02, 0x00, 0x00, 0x02,
                                       0x03, 0x03};
static const uint8_t ALERT[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
static const uint8_t CLOSE_NOTIFY[] = {0x17, 0x03, 0x03, 0x00, 0x13, 1, 2,  3,  4,  5,  6, 7,
                                       8,    9,    10,   11,   12,   13, 14, 15, 16, 17, 18, 19};
/* a handshake record that is not a ServerHello (a Certificate) */
static const uint8_t CERTIFICATE[] = {0x16, 0x03, 0x03, 0x00, 0x04, 0x0b, 0x00, 0x00, 0x00};

static void expect(const char *what, const uint8_t *stale, size_t stale_len,
                   const uint8_t *first, size_t first_len) {
    static uint8_t stream[16384], out[16384];
    static const uint8_t after[] = {0x17, 0x03, 0x03, 0x00, 0x01, 0x99}; /* passes as is */
    size_t len = 0;
    if (stale_len) memcpy(stream, stale, stale_len), len += stale_len;
    memcpy(stream + len, first, first_len), len += first_len;
    memcpy(stream + len, after, sizeof after), len += sizeof after;
    const size_t sizes[] = {1, 2, 5, 6, 7, 64, 4096};
    char name[160];
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            record_sync_t s;
            int n = run(stream, len, sizes[c], sizes[k], out, &s);
            snprintf(name, sizeof name, "%s (link reads of %zu, TLS reads of %zu)", what,
                     sizes[c], sizes[k]);
            int ok = n == (int)(first_len + sizeof after) &&
                     memcmp(out, first, first_len) == 0 &&
                     memcmp(out + first_len, after, sizeof after) == 0 &&
                     s.skipped == stale_len && s.synced;
            check(ok, name);
            if (!ok) return; /* one line per case is enough */
        }
}

int main(void) {
    static uint8_t stale[8192], out[16384];
    expect("a clean link passes unchanged", NULL, 0, SERVER_HELLO, sizeof SERVER_HELLO);
    expect("the last session's close_notify is skipped", CLOSE_NOTIFY, sizeof CLOSE_NOTIFY,
           SERVER_HELLO, sizeof SERVER_HELLO);
    expect("a record cut by a reset is skipped", CLOSE_NOTIFY + 7, sizeof CLOSE_NOTIFY - 7,
           SERVER_HELLO, sizeof SERVER_HELLO);
    expect("a handshake record other than ServerHello is skipped", CERTIFICATE,
           sizeof CERTIFICATE, SERVER_HELLO, sizeof SERVER_HELLO);
    expect("a plaintext alert is a server's first record", CLOSE_NOTIFY, sizeof CLOSE_NOTIFY,
           ALERT, sizeof ALERT);
    memcpy(stale, CLOSE_NOTIFY, sizeof CLOSE_NOTIFY);
    memcpy(stale + sizeof CLOSE_NOTIFY, CLOSE_NOTIFY, sizeof CLOSE_NOTIFY);
    stale[sizeof CLOSE_NOTIFY] = 0x16; /* and a "ServerHello" longer than a record can be */
    stale[sizeof CLOSE_NOTIFY + 3] = 0x40;
    stale[sizeof CLOSE_NOTIFY + 5] = 0x02;
    expect("records that only partly look like a ServerHello are skipped", stale,
           2 * sizeof CLOSE_NOTIFY, SERVER_HELLO, sizeof SERVER_HELLO);

    record_sync_t s;
    memset(stale, 0, sizeof stale);
    check(run(stale, RECORD_SYNC_MAX_SKIP + RECORD_SYNC_HEAD - 1, 64, 64, out, &s) == 0 &&
              s.skipped == RECORD_SYNC_MAX_SKIP,
          "up to RECORD_SYNC_MAX_SKIP bytes that are not TLS are skipped, waiting for more");
    check(run(stale, sizeof stale, 64, 64, out, &s) == -1 &&
              s.skipped == RECORD_SYNC_MAX_SKIP + 1,
          "one more ends the attempt");
    printf("record sync: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
