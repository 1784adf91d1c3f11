/* The provisioning blob (see wasmbed/emulation/provisioning.py): identity and settings
 * a factory writes at BOARD_PROVISION_ADDR. Spans point into flash. */
#ifndef PROVISION_H
#define PROVISION_H

#include <stdbool.h>
#include <stdint.h>

#include "wb_proto.h"

typedef struct {
    wb_span_t name, key, cert, ca, gateway, seed, spki;
    uint64_t time_unix, wasm_ram, max_module_size;
} provision_t;

bool provision_load(uint32_t address, provision_t *out);

#endif
