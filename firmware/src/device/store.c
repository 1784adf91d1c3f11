#include "store.h"

#include <stdio.h>
#include <string.h>

#include "board.h"

#define STORE_MAGIC 0x57425331u /* "WBS1" */

typedef struct {
    uint32_t magic, len, id_len, crc;
    uint32_t owner; /* CRC of the provisioned public key the certificate was issued for */
    uint8_t id[64];
    uint8_t der[1536];
} store_t;

__attribute__((section(".noinit"))) static store_t store;
static uint32_t owner; /* this boot's provisioned key (store_bind) */

static uint32_t crc32(const uint8_t *p, size_t n, uint32_t crc) {
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1u));
    }
    return ~crc;
}

static uint32_t record_crc(const store_t *r) {
    return crc32(r->der, r->len, crc32(r->id, r->id_len, r->len ^ r->owner));
}

static uint32_t store_crc(void) { return record_crc(&store); }

static bool valid(const store_t *r) {
    return r->magic == STORE_MAGIC && r->len <= sizeof r->der && r->id_len < sizeof r->id &&
           r->owner == owner && r->crc == record_crc(r);
}

bool store_get_cert(const uint8_t **der, size_t *len, char *id, size_t id_cap) {
    if (!valid(&store)) {
        const store_t *flash = board_flash_store();
        if (!valid(flash)) return false;
        memcpy(&store, flash, sizeof store); /* after a power cut: the flash copy */
    }
    *der = store.der;
    *len = store.len;
    size_t n = store.id_len < id_cap - 1 ? store.id_len : id_cap - 1;
    memcpy(id, store.id, n);
    id[n] = 0;
    return true;
}

void store_put_cert(const uint8_t *der, size_t len, const uint8_t *id, size_t id_len) {
    if (len > sizeof store.der || id_len >= sizeof store.id) return;
    store.magic = 0; /* a reset mid-write leaves an invalid record, never half a cert */
    memcpy(store.der, der, len);
    memcpy(store.id, id, id_len);
    store.len = (uint32_t)len;
    store.owner = owner;
    store.id_len = (uint32_t)id_len;
    store.crc = store_crc();
    store.magic = STORE_MAGIC;
    if (board_flash_write_store(&store, sizeof store))
        printf("wasmbed: certificate stored in flash\r\n");
    else
        printf("wasmbed: flash store not writable here; certificate kept in retained RAM\r\n");
}

void store_clear(void) { store.magic = 0; }

void store_bind(const uint8_t *public_key, size_t len) { owner = crc32(public_key, len, 0); }
