/* Host test of the C protocol codec against the Python package's vectors: every valid
 * vector decodes and re-encodes byte for byte; every invalid one fails with the same error
 * class as the Python decoder; truncated and bit-flipped inputs never crash (run it under
 * ASan/UBSan). Prints one line per check and a closing "N passed, N failed". */
#include <stdio.h>
#include <string.h>

#include "wb_proto.h"
#include "wb_schema.h"
#include "wb_vectors.h"

static int passed, failed;

static void check(int ok, const char *what, const char *name, const char *detail) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s %s: %s\n", what, name, detail);
    }
}

int main(void) {
    static uint8_t out[70000];
    wb_msg_t msg;
    char detail[160];
    for (size_t i = 0; i < sizeof VALID / sizeof VALID[0]; i++) {
        const wb_vector_t *v = &VALID[i];
        int err = wb_decode(v->data, v->len, &msg);
        snprintf(detail, sizeof detail, "decode -> %s", wb_err_name(err));
        check(err == WB_OK, "valid", v->name, detail);
        if (err) continue;
        int n = wb_encode(&msg, out, sizeof out);
        snprintf(detail, sizeof detail, "re-encoded %d bytes, expected %u", n, v->len);
        check(n == (int)v->len && memcmp(out, v->data, v->len) == 0, "round-trip", v->name,
              detail);
        for (unsigned cut = 0; cut < v->len; cut++) /* every truncation is refused */
            if (wb_decode(v->data, cut, &msg) == WB_OK) {
                snprintf(detail, sizeof detail, "accepted a %u-byte prefix", cut);
                check(0, "truncated", v->name, detail);
                break;
            }
        static uint8_t flipped[4096];
        for (unsigned pos = 0; pos < v->len && v->len <= sizeof flipped; pos++) {
            for (int bit = 0; bit < 8; bit++) { /* must not crash; result may be ok or not */
                memcpy(flipped, v->data, v->len);
                flipped[pos] ^= (uint8_t)(1u << bit);
                if (wb_decode(flipped, v->len, &msg) == WB_OK)
                    (void)wb_encode(&msg, out, sizeof out);
            }
        }
    }
    for (size_t i = 0; i < sizeof INVALID / sizeof INVALID[0]; i++) {
        const wb_vector_t *v = &INVALID[i];
        int err = wb_decode(v->data, v->len, &msg);
        snprintf(detail, sizeof detail, "got %s, expected %s", wb_err_name(err), v->error);
        check(strcmp(wb_err_name(err), v->error) == 0, "invalid", v->name, detail);
    }
    /* building a message by hand gives the Python encoding */
    wb_msg_init(&msg, WB_MSG_HEARTBEAT, 4);
    msg.version = 1; /* the vector is a version-1 envelope */
    wb_set_uint(&msg, WB_HEARTBEAT_UPTIME_MS, 0);
    wb_set_uint(&msg, WB_HEARTBEAT_FREE_MEMORY, 0);
    msg.f[WB_HEARTBEAT_RUNNING_APPS] = (wb_value_t){.present = true, .n = 0};
    int n = wb_encode(&msg, out, sizeof out);
    int found = 0;
    for (size_t i = 0; i < sizeof VALID / sizeof VALID[0]; i++)
        if (!strcmp(VALID[i].name, "heartbeat_empty"))
            found = n == (int)VALID[i].len && !memcmp(out, VALID[i].data, VALID[i].len);
    check(found, "build", "heartbeat_empty", "hand-built heartbeat differs from Python's");
    check(wb_encode(&msg, out, 5) == WB_E_OVERFLOW, "overflow", "heartbeat", "not refused");
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
