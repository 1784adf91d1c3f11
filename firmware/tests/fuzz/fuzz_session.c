/* libFuzzer target: the firmware's session state machine (src/device/session.c, outbox.c,
 * store.c as they are) with TLS, the hardware and the wasm runtime stubbed. The input is:
 * one byte of setup (bit 0: the device holds an operational certificate, so it heartbeats
 * and takes deployments; bits 1-3: how many bytes each TLS read returns), then the byte
 * stream the gateway sends after the TLS handshake. When it runs out the link closes.
 * Properties (abort() when broken, plus ASan/UBSan): every frame the device sends is one
 * the protocol accepts (wb_frame_check and wb_decode), and the session always returns.
 * session.c is compiled into this file so its file-scope state is reset between inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/device/outbox.c"
#include "../../src/device/session.c"
#include "../../src/device/store.c"

/* --- the gateway's bytes, through a stubbed TLS ---------------------------------------- */
static const uint8_t *in_data;
static size_t in_len, in_pos, in_chunk;
static uint8_t sent[TX_CAP * 2];
static size_t sent_len;

int tls_open(const provision_t *prov, const uint8_t *cert, size_t cert_len) {
    (void)prov, (void)cert, (void)cert_len;
    return 0;
}
int tls_connect_step(void) { return 1; }
bool tls_answered(void) { return true; }
const char *tls_cipher(void) { return "TLSv1.3"; }
void tls_close(void) {}

int tls_read(uint8_t *buf, size_t cap) {
    if (in_pos >= in_len) return -1; /* the gateway closed the link */
    size_t n = in_len - in_pos;
    if (n > in_chunk) n = in_chunk;
    if (n > cap) n = cap;
    memcpy(buf, in_data + in_pos, n);
    in_pos += n;
    return (int)n;
}

/* Every frame the device writes must be one the gateway's decoder accepts. */
int tls_write_all(const uint8_t *data, size_t len) {
    if (len > sizeof sent - sent_len) abort();
    memcpy(sent + sent_len, data, len);
    sent_len += len;
    while (sent_len >= WB_HEADER_SIZE) {
        uint32_t n = wb_frame_length(sent);
        if (wb_frame_check(n, WB_MAX_FRAME) != WB_OK) abort();
        if (sent_len < n + WB_HEADER_SIZE) break;
        static wb_msg_t check;
        if (wb_decode(sent + WB_HEADER_SIZE, n, &check) != WB_OK) abort();
        memmove(sent, sent + WB_HEADER_SIZE + n, sent_len - WB_HEADER_SIZE - n);
        sent_len -= WB_HEADER_SIZE + n;
    }
    return 0;
}

/* --- hardware ------------------------------------------------------------------------- */
static uint32_t now_ms;
uint32_t hal_millis(void) { return now_ms++; } /* time passes as the firmware looks */
void hal_idle(void) { now_ms += 5; }
void hal_wait_link(void) { now_ms += 5; }
size_t hal_link_read(uint8_t *buf, size_t cap) { (void)buf, (void)cap; return 0; }
void clock_set_unix(int64_t unix_s) { (void)unix_s; }
size_t heap_free(void) { return 50000; }

static uint8_t flash[sizeof(store_t)];
bool board_flash_write_store(const void *data, size_t len) {
    if (len > sizeof flash) return false;
    memcpy(flash, data, len);
    return true;
}
const void *board_flash_store(void) { return flash; }

/* --- the wasm runtime: transfer bookkeeping, and a run that reports and services ------- */
static struct {
    char id[65];
    uint32_t size, have;
    bool committed, running, stop;
} fake;

static void copy_id(char *out, wb_span_t s) {
    size_t n = s.len < 64 ? s.len : 64;
    memcpy(out, s.ptr, n);
    out[n] = 0;
}

uint32_t app_begin(const wb_msg_t *m, uint32_t max_size, uint32_t wasm_ram, app_error_t *err) {
    uint32_t size = (uint32_t)m->f[WB_DEPLOY_BEGIN_SIZE].u;
    if (size > max_size || m->f[WB_DEPLOY_BEGIN_MEMORY_LIMIT].u > wasm_ram) {
        err->code = WB_ERROR_CODE_RESOURCE_EXHAUSTED;
        strcpy(err->text, "too large");
        return 0;
    }
    memset(&fake, 0, sizeof fake);
    copy_id(fake.id, m->f[WB_DEPLOY_BEGIN_MODULE_ID].s);
    fake.size = size;
    return 0;
}

uint32_t app_chunk(const wb_msg_t *m, app_error_t *err) {
    uint32_t off = (uint32_t)m->f[WB_DEPLOY_CHUNK_OFFSET].u;
    uint32_t len = m->f[WB_DEPLOY_CHUNK_DATA].s.len;
    if (!app_matches(m->f[WB_DEPLOY_CHUNK_MODULE_ID].s) || off != fake.have ||
        len > fake.size - fake.have) {
        err->code = WB_ERROR_CODE_BAD_FRAME;
        strcpy(err->text, "unexpected chunk");
        return fake.have;
    }
    fake.have += len;
    return fake.have;
}

void app_commit(const wb_msg_t *m, app_error_t *err) {
    if (!app_matches(m->f[WB_DEPLOY_COMMIT_MODULE_ID].s) || fake.have != fake.size) {
        err->code = WB_ERROR_CODE_HASH_MISMATCH;
        strcpy(err->text, "incomplete");
        return;
    }
    fake.committed = true;
}

int app_run(const app_host_t *host, app_error_t *err) {
    fake.running = true;
    err->code = 0;
    err->text[0] = 0;
    for (int i = 0; i < 12 && !fake.stop; i++) { /* more than an outbox window holds */
        host->emit_output(fake.id, WB_OUTPUT_KIND_VALUE, NULL, 0, i);
        if (host->service(3) != 0) break;
    }
    fake.running = false;
    fake.committed = false;
    if (fake.stop) return WB_APP_STATE_STOPPED;
    host->emit_output(fake.id, WB_OUTPUT_KIND_LOG, "done", 4, 0);
    return WB_APP_STATE_COMPLETED;
}

bool app_matches(wb_span_t id) { return fake.id[0] && strlen(fake.id) == id.len && !memcmp(fake.id, id.ptr, id.len); }
bool app_ready(void) { return fake.committed; }
bool app_running(void) { return fake.running; }
const char *app_id(void) { return fake.id; }
void app_request_stop(void) { fake.stop = true; }
uint32_t app_memory_in_use(void) { return 0; }

/* --- one input -------------------------------------------------------------------------- */
static const char CERT[] = "operational-certificate", ID[] = "fuzz-device";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char name[] = "fuzz-device", gw[] = "gw-fuzz";
    provision_t prov;
    memset(&prov, 0, sizeof prov);
    prov.name = (wb_span_t){(const uint8_t *)name, sizeof name - 1};
    prov.gateway = (wb_span_t){(const uint8_t *)gw, sizeof gw - 1};
    prov.spki = prov.cert = (wb_span_t){(const uint8_t *)"spki", 4};
    prov.wasm_ram = 65536;
    prov.max_module_size = 32768;
    /* a fresh device for every input: no certificate, empty outbox, ids from 1 */
    memset(&store, 0, sizeof store);
    memset(flash, 0, sizeof flash);
    memset(&fake, 0, sizeof fake);
    count = 0;
    next_id = 1;
    out_seq = 0;
    if (data[0] & 1)
        store_put_cert((const uint8_t *)CERT, sizeof CERT - 1, (const uint8_t *)ID, sizeof ID - 1);
    in_chunk = 1u << ((data[0] >> 1) & 7); /* 1 .. 128 bytes per TLS read */
    in_data = data + 1;
    in_len = size - 1;
    in_pos = 0;
    sent_len = 0;
    now_ms = 0;
    (void)session_run(&prov, 0);
    return 0;
}
