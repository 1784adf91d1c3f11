/* libFuzzer target: the C protocol codec (wb_decode, wb_encode, wb_frame_check).
 * Properties, each an abort() when broken (built with ASan and UBSan, so any read past the
 * input is a finding too):
 * - an accepted payload re-encodes to exactly the same bytes (the deterministic profile
 *   admits one encoding per message, so decode then encode is the identity);
 * - an error is one of the named classes (wb_err_name never says "?").
 * Run it with `./run fuzz` (harness/fuzz), or by hand:
 *   make -C firmware fuzz-codec && firmware/build/fuzz/fuzz_codec corpus/codec */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wb_proto.h"
#include "wb_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static wb_msg_t msg;
    static uint8_t out[WB_MAX_FRAME + 16];
    int err = wb_decode(data, size, &msg);
    if (err != WB_OK) {
        if (!strcmp(wb_err_name(err), "?")) abort();
        return 0;
    }
    int n = wb_encode(&msg, out, sizeof out);
    if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0) abort();
    if (size >= WB_HEADER_SIZE) { /* the frame rule on whatever the first bytes announce */
        uint32_t len = wb_frame_length(data);
        int check = wb_frame_check(len, WB_DEVICE_MAX_FRAME);
        if (check != WB_OK && check != WB_E_TOO_LARGE && check != WB_E_MALFORMED) abort();
    }
    return 0;
}
