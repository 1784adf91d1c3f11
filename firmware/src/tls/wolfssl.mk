# The wolfSSL sources the firmware compiles (misc.c and friends are #included by others).
WOLFSSL_DIR := third_party/wolfssl
WOLFSSL_SRC := $(addprefix $(WOLFSSL_DIR)/src/,internal.c keys.c ssl.c tls.c tls13.c wolfio.c) \
  $(addprefix $(WOLFSSL_DIR)/wolfcrypt/src/,aes.c asn.c ecc.c hash.c hmac.c kdf.c memory.c \
    random.c sha.c sha256.c sp_cortexm.c sp_int.c wc_port.c wolfmath.c logging.c error.c \
    signature.c wc_encrypt.c)
WOLFSSL_CFLAGS := -DWOLFSSL_USER_SETTINGS -Isrc/tls -I$(WOLFSSL_DIR) -Wno-unused-parameter \
  -Wno-sign-compare -Wno-unused-function
