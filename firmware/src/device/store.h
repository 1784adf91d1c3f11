/* Where the operational certificate lives between sessions and resets. On silicon this is
 * a flash sector; QEMU's STM32 flash is not programmable, so the store is RAM that a warm
 * reset keeps (.noinit), checked by magic and CRC. A power cut loses it: the device then
 * enrolls again with its bootstrap identity and gets its certificate back. */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool store_get_cert(const uint8_t **der, size_t *len, char *device_id, size_t id_cap);
void store_put_cert(const uint8_t *der, size_t len, const uint8_t *id, size_t id_len);
void store_clear(void);

#endif
