/* Where the operational certificate lives between sessions, resets and power cuts: the
 * board's store flash sector, and a copy in RAM that a warm reset keeps (.noinit). Both are
 * checked by magic and CRC, the magic written last, so a power cut mid-write leaves an
 * invalid record, never half a certificate: the device then enrolls again with its
 * bootstrap identity (same key, so it gets its certificate back). QEMU's STM32 flash is not
 * programmable: there the RAM copy is all there is, and the console says so. */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool store_get_cert(const uint8_t **der, size_t *len, char *device_id, size_t id_cap);
void store_put_cert(const uint8_t *der, size_t len, const uint8_t *id, size_t id_len);
void store_clear(void);
/* Binds the store to this boot's provisioned key: a record kept for another key (the board
 * was flashed with a new identity; a probe's reset keeps RAM) is not this device's. */
void store_bind(const uint8_t *public_key, size_t len);

#endif
