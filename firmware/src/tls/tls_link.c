#include "tls_link.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "hal.h"
#include "record_sync.h"

static WOLFSSL_CTX *ctx;
static WOLFSSL *ssl;
static record_sync_t sync; /* where this session's bytes start on the link */
static const provision_t *seed_source;
static uint32_t seed_counter;

/* DRBG seed: SHA-256(blob seed || counter || uptime). QEMU's STM32 has no RNG. */
int wasmbed_rng_seed(unsigned char *out, unsigned int size) {
    while (size) {
        uint8_t block[WC_SHA256_DIGEST_SIZE];
        wc_Sha256 sha;
        uint32_t now = hal_millis();
        wc_InitSha256(&sha);
        if (seed_source) wc_Sha256Update(&sha, seed_source->seed.ptr, seed_source->seed.len);
        seed_counter++;
        wc_Sha256Update(&sha, (const uint8_t *)&seed_counter, sizeof seed_counter);
        wc_Sha256Update(&sha, (const uint8_t *)&now, sizeof now);
        wc_Sha256Final(&sha, block);
        unsigned int n = size < sizeof block ? size : sizeof block;
        memcpy(out, block, n);
        out += n;
        size -= n;
    }
    return 0;
}

static int io_recv(WOLFSSL *s, char *buf, int sz, void *arg) {
    (void)s;
    (void)arg;
    bool was_synced = sync.synced;
    int n = record_sync_read(&sync, hal_link_read, (uint8_t *)buf, (size_t)sz);
    if (n < 0) {
        printf("wasmbed: %lu link bytes before the gateway's answer are not TLS\r\n",
               (unsigned long)sync.skipped);
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    if (!was_synced && sync.synced && sync.skipped)
        printf("wasmbed: skipped %lu stale link bytes before the gateway's answer\r\n",
               (unsigned long)sync.skipped);
    return n ? n : WOLFSSL_CBIO_ERR_WANT_READ;
}

static int io_send(WOLFSSL *s, char *buf, int sz, void *arg) {
    (void)s;
    (void)arg;
    hal_link_write((const uint8_t *)buf, (size_t)sz);
    return sz;
}

int tls_global_init(const provision_t *prov) {
    seed_source = prov;
    return wolfSSL_Init() == WOLFSSL_SUCCESS ? 0 : -1;
}

int tls_open(const provision_t *prov, const uint8_t *cert, size_t cert_len) {
    tls_close();
    record_sync_reset(&sync);
    ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
    if (!ctx) return -1;
    wolfSSL_CTX_SetIORecv(ctx, io_recv);
    wolfSSL_CTX_SetIOSend(ctx, io_send);
    if (wolfSSL_CTX_load_verify_buffer(ctx, prov->ca.ptr, prov->ca.len,
                                       WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_certificate_buffer(ctx, cert, (long)cert_len,
                                           WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_buffer(ctx, prov->key.ptr, prov->key.len,
                                          WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
        return -2;
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
    ssl = wolfSSL_new(ctx);
    if (!ssl) return -3;
    char host[65];
    size_t n = prov->gateway.len < 64 ? prov->gateway.len : 64;
    memcpy(host, prov->gateway.ptr, n);
    host[n] = 0;
    wolfSSL_check_domain_name(ssl, host); /* the gateway's cert must name it */
    return 0;
}

/* wolfSSL_get_error() gives negative codes for failures and small positive ones for
 * WANT_READ/WANT_WRITE/ZERO_RETURN: every failure leaves here negative. */
static int failure(int err) { return err < 0 ? err : -err; }

int tls_connect_step(void) {
    if (!ssl) return -1;
    if (wolfSSL_connect(ssl) == WOLFSSL_SUCCESS) return 1;
    int err = wolfSSL_get_error(ssl, 0);
    return (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) ? 0
                                                                              : failure(err);
}

int tls_write_all(const uint8_t *data, size_t len) {
    while (len) {
        int n = wolfSSL_write(ssl, data, (int)len);
        if (n <= 0) {
            int err = wolfSSL_get_error(ssl, n);
            if (err == WOLFSSL_ERROR_WANT_WRITE || err == WOLFSSL_ERROR_WANT_READ) continue;
            return failure(err);
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int tls_read(uint8_t *buf, size_t cap) {
    int n = wolfSSL_read(ssl, buf, (int)cap);
    if (n > 0) return n;
    int err = wolfSSL_get_error(ssl, n);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) return 0;
    return err == WOLFSSL_ERROR_ZERO_RETURN ? -1 : failure(err);
}

void tls_close(void) {
    if (ssl) {
        wolfSSL_shutdown(ssl); /* sends close_notify; we do not wait for the reply */
        wolfSSL_free(ssl);
        ssl = NULL;
    }
    if (ctx) {
        wolfSSL_CTX_free(ctx);
        ctx = NULL;
    }
}

bool tls_answered(void) { return sync.synced; }

const char *tls_cipher(void) { return ssl ? wolfSSL_get_version(ssl) : "-"; }
