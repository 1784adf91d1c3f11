#include "provision.h"

#include <string.h>

#include "wb_cbor.h"

bool provision_load(uint32_t address, provision_t *p) {
    const uint8_t *blob = (const uint8_t *)address;
    if (memcmp(blob, "WBP1", 4) != 0) return false;
    uint32_t len = wb_frame_length(blob + 4);
    if (len == 0 || len > 64 * 1024) return false;
    wb_reader_t r = {blob + 8, blob + 8 + len};
    wb_item_t map;
    if (wb_r_head(&r, &map) != 0 || map.major != CBOR_MAP) return false;
    memset(p, 0, sizeof *p);
    for (uint64_t i = 0; i < map.value; i++) {
        wb_item_t key, val;
        if (wb_r_head(&r, &key) != 0 || wb_r_head(&r, &val) != 0) return false;
        wb_span_t span = {val.data, (uint32_t)val.value};
        switch (key.value) {
        case 0: p->name = span; break;
        case 1: p->key = span; break;
        case 2: p->cert = span; break;
        case 3: p->ca = span; break;
        case 4: p->gateway = span; break;
        case 5: p->seed = span; break;
        case 6: p->time_unix = val.value; break;
        case 7: p->spki = span; break;
        case 8: p->wasm_ram = val.value; break;
        case 9: p->max_module_size = val.value; break;
        default: break;
        }
    }
    return p->name.len && p->key.len && p->cert.len && p->ca.len && p->gateway.len &&
           p->seed.len && p->spki.len;
}
