#include "outbox.h"

#include <string.h>

static outbox_entry_t entries[BOARD_OUTBOX_WINDOW]; /* oldest first, compacted */
static size_t count;

bool outbox_full(void) { return count == BOARD_OUTBOX_WINDOW; }
size_t outbox_count(void) { return count; }
const outbox_entry_t *outbox_at(size_t i) { return i < count ? &entries[i] : NULL; }

const outbox_entry_t *outbox_push(const char *module_id, uint32_t seq, int kind,
                                  const char *text, size_t len, int64_t value) {
    if (count == BOARD_OUTBOX_WINDOW) return NULL;
    outbox_entry_t *e = &entries[count++];
    size_t id_len = strlen(module_id);
    if (id_len > sizeof e->module_id - 1) id_len = sizeof e->module_id - 1;
    memcpy(e->module_id, module_id, id_len);
    e->module_id[id_len] = 0;
    e->seq = seq;
    e->kind = (uint8_t)kind;
    e->has_text = text != NULL;
    e->len = (uint16_t)(len > OUTBOX_TEXT_MAX ? OUTBOX_TEXT_MAX : len);
    if (text) memcpy(e->text, text, e->len);
    e->value = value;
    return e;
}

void outbox_ack(const uint8_t *module_id, size_t id_len, uint32_t seq) {
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        const outbox_entry_t *e = &entries[i];
        bool covered = strlen(e->module_id) == id_len && !memcmp(e->module_id, module_id, id_len)
                       && e->seq <= seq;
        if (!covered) {
            if (kept != i) entries[kept] = *e;
            kept++;
        }
    }
    count = kept;
}
