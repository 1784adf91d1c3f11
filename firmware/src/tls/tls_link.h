/* TLS 1.3 client (wolfSSL) over the link UART, non-blocking. */
#ifndef TLS_LINK_H
#define TLS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provision.h"

int tls_global_init(const provision_t *prov);
/* Start a session with the given certificate (DER) and the provisioned key. */
int tls_open(const provision_t *prov, const uint8_t *cert, size_t cert_len);
/* 1 connected, 0 still handshaking, <0 wolfSSL error code (negative). */
int tls_connect_step(void);
/* The server's first record of this session has arrived. */
bool tls_answered(void);
/* 0, or a negative wolfSSL error code. */
int tls_write_all(const uint8_t *data, size_t len);
/* >0 bytes read, 0 nothing yet, <0 closed or failed. */
int tls_read(uint8_t *buf, size_t cap);
void tls_close(void);
const char *tls_cipher(void);

#endif
