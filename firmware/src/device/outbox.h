/* The outputs a device keeps until the gateway acknowledges them (protocol version 2).
 * An output leaves the outbox only when an OutputAck covers it; every entry left is sent
 * again at the start of the next session. The outbox is small and never overwritten: a
 * module that outputs faster than acknowledgements arrive waits until there is room. */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"

#ifndef BOARD_OUTBOX_WINDOW
#define BOARD_OUTBOX_WINDOW 8
#endif
#define OUTBOX_TEXT_MAX 256 /* the protocol's AppOutput.text limit */

typedef struct {
    char module_id[65];
    uint32_t seq;
    uint8_t kind;
    bool has_text;
    uint16_t len;
    int64_t value;
    char text[OUTBOX_TEXT_MAX];
} outbox_entry_t;

bool outbox_full(void);
size_t outbox_count(void);
/* Oldest first; NULL past the end. */
const outbox_entry_t *outbox_at(size_t i);
/* Keep an output (the outbox must not be full). */
const outbox_entry_t *outbox_push(const char *module_id, uint32_t seq, int kind,
                                  const char *text, size_t len, int64_t value);
/* Forget every output of `module_id` up to and including `seq`. */
void outbox_ack(const uint8_t *module_id, size_t id_len, uint32_t seq);

#endif
