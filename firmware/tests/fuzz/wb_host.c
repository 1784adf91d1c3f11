/* The C codec as a shared library for the differential fuzzer (harness/fuzz/cdecoder.py,
 * through ctypes): decode, then re-encode what was decoded. */
#include <stddef.h>
#include <stdint.h>

#include "wb_proto.h"

/* >= 0: the payload was accepted and `out` holds its re-encoding (that many bytes);
 * < 0: the decoder's error (wb_err_name names it), or WB_E_OVERFLOW if `out` is short. */
int wb_roundtrip(const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    static wb_msg_t msg;
    int err = wb_decode(in, len, &msg);
    return err != WB_OK ? err : wb_encode(&msg, out, cap);
}
