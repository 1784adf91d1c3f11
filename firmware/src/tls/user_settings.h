/* wolfSSL configuration of the firmware: a TLS 1.3 client with a client certificate,
 * ECDSA/ECDHE P-256 and AES-128-GCM only, no filesystem, no threads, I/O over the link
 * UART. The DRBG is seeded from the provisioning blob's seed (QEMU's STM32 has no RNG). */
#ifndef WASMBED_WOLFSSL_USER_SETTINGS_H
#define WASMBED_WOLFSSL_USER_SETTINGS_H

#define WOLFSSL_GENERAL_ALIGNMENT 4
#define SIZEOF_LONG_LONG 8
#define SINGLE_THREADED
#define NO_FILESYSTEM
#define NO_WRITEV
#define NO_DEV_RANDOM
#define WOLFSSL_USER_IO
#define WOLFSSL_NO_SOCK
#define WOLFSSL_SMALL_STACK
#define WOLFSSL_IGNORE_FILE_WARN
#define NO_MAIN_DRIVER
#define NO_SESSION_CACHE
#define NO_ERROR_STRINGS

/* protocol */
#define WOLFSSL_TLS13
#define WOLFSSL_NO_TLS12
#define NO_OLD_TLS
#define NO_WOLFSSL_SERVER
#define HAVE_TLS_EXTENSIONS
#define HAVE_SUPPORTED_CURVES
#define HAVE_HKDF
#define HAVE_AEAD
#define NO_PSK

/* crypto: P-256 only */
#define HAVE_ECC
#define ECC_USER_CURVES
#define ECC_TIMING_RESISTANT
#define WOLFSSL_SP_MATH
#define WOLFSSL_HAVE_SP_ECC
#define WOLFSSL_SP_SMALL
#define WOLFSSL_SP_ARM_CORTEX_M_ASM
#define SP_WORD_SIZE 32
#define HAVE_AESGCM
#define GCM_SMALL
#define WOLFSSL_AES_SMALL_TABLES
#define NO_AES_CBC
#define NO_RSA
#define NO_DH
#define NO_DSA
#define NO_DES3
#define NO_RC4
#define NO_MD4
#define NO_MD5
#define NO_PWDBASED
#define NO_HC128
#define NO_RABBIT
#define WOLFSSL_NO_PEM
#define NO_CODING

/* randomness: Hash DRBG seeded by us */
#define HAVE_HASHDRBG
extern int wasmbed_rng_seed(unsigned char *output, unsigned int size);
#define CUSTOM_RAND_GENERATE_SEED wasmbed_rng_seed
#define CUSTOM_RAND_TYPE unsigned int

#endif
