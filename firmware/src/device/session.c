#include "session.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "board.h"
#include "hal.h"
#include "outbox.h"
#include "store.h"
#include "tls_link.h"
#include "wb_proto.h"
#include "wb_schema.h"

/* Link buffers: the largest frame the device accepts (announced in Hello as max_frame; by
 * default the protocol's WB_DEVICE_MAX_FRAME, what a gateway assumes of a device that
 * announces nothing) and the largest it sends. Boards with little RAM set smaller ones in
 * their board.h. */
#ifndef BOARD_LINK_RX_CAP
#define BOARD_LINK_RX_CAP (WB_DEVICE_MAX_FRAME + WB_HEADER_SIZE)
#endif
#ifndef BOARD_LINK_TX_CAP
#define BOARD_LINK_TX_CAP 2048
#endif
#define RX_CAP BOARD_LINK_RX_CAP
#define TX_CAP BOARD_LINK_TX_CAP
#define HANDSHAKE_TIMEOUT_MS 20000
/* A ClientHello can be lost whole (a partitioned or detached link); the gateway answers one
 * within milliseconds unless it is swamped, so silence this long means start again. */
#define FIRST_ANSWER_TIMEOUT_MS 5000
#define REPLY_TIMEOUT_MS 15000


static uint8_t rx[RX_CAP];
static size_t rx_len;
static uint8_t tx[TX_CAP];
static uint32_t next_id = 1;
static char device_id[65];
static uint32_t link_version = 1; /* what HelloAck chose; Hello/HelloAck are always 1 */

/* One message received and one being sent at a time (single-threaded), kept off the stack:
 * `msg` holds the request while `txm` is built to answer it. */
static wb_msg_t msg;
static wb_msg_t txm;

static void msg_init(wb_msg_t *m, uint32_t type, uint32_t msg_id) {
    wb_msg_init(m, type, msg_id);
    m->version = link_version;
}

static int send_msg(wb_msg_t *m) {
    int n = wb_encode(m, tx + WB_HEADER_SIZE, sizeof tx - WB_HEADER_SIZE);
    if (n < 0) {
        printf("wasmbed: encode error %s\r\n", wb_err_name(n));
        return n;
    }
    wb_frame_header(tx, (uint32_t)n);
    int err = tls_write_all(tx, (size_t)n + WB_HEADER_SIZE);
    if (err) printf("wasmbed: tls write failed (wolfSSL error %d)\r\n", err);
    return err;
}

/* Drop the frame at the head of rx (after it was handled). */
static void consume_frame(void) {
    uint32_t len = wb_frame_length(rx) + WB_HEADER_SIZE;
    memmove(rx, rx + len, rx_len - len);
    rx_len -= len;
}

/* 1: a frame decoded into *m (call consume_frame after use); 0: none within timeout;
 * <0: the link failed or the frame was malformed. */
static int recv_msg(wb_msg_t *m, uint32_t timeout_ms) {
    uint32_t start = hal_millis();
    for (;;) {
        if (rx_len >= WB_HEADER_SIZE) {
            uint32_t len = wb_frame_length(rx);
            int bad = wb_frame_check(len, RX_CAP - WB_HEADER_SIZE);
            if (bad) {
                printf("wasmbed: frame of %lu bytes refused: %s\r\n", (unsigned long)len,
                       wb_err_name(bad));
                return bad;
            }
            if (rx_len >= len + WB_HEADER_SIZE) {
                int err = wb_decode(rx + WB_HEADER_SIZE, len, m);
                if (err) {
                    printf("wasmbed: bad frame: %s\r\n", wb_err_name(err));
                    return err;
                }
                return 1;
            }
        }
        int n = tls_read(rx + rx_len, RX_CAP - rx_len);
        if (n < 0) return n;
        rx_len += (size_t)n;
        if (n == 0) {
            if (hal_millis() - start >= timeout_ms) return 0;
            hal_wait_link(); /* until the link receives, or the next tick */
        }
    }
}

static void span_to_str(wb_span_t s, char *out, size_t cap) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(out, s.ptr, n);
    out[n] = 0;
}

static session_result_t enroll(const provision_t *prov) {
    wb_msg_t *const m = &msg;
    msg_init(m, WB_MSG_ENROLL_REQUEST, next_id++);
    wb_set_span(m, WB_ENROLL_REQUEST_PUBLIC_KEY, prov->spki.ptr, prov->spki.len);
    wb_set_str(m, WB_ENROLL_REQUEST_BOARD, BOARD_NAME);
    wb_set_str(m, WB_ENROLL_REQUEST_FIRMWARE_VERSION, FIRMWARE_VERSION);
    wb_set_uint(m, WB_ENROLL_REQUEST_WASM_RAM, prov->wasm_ram);
    wb_set_uint(m, WB_ENROLL_REQUEST_MAX_MODULE_SIZE, prov->max_module_size);
    if (send_msg(m) < 0) return SESSION_FAILED;
    int got = recv_msg(m, REPLY_TIMEOUT_MS);
    if (got <= 0 || m->type != WB_MSG_ENROLL_RESPONSE) {
        printf("wasmbed: no enrollment answer\r\n");
        return SESSION_FAILED;
    }
    if (!m->f[WB_ENROLL_RESPONSE_ACCEPTED].u) {
        char reason[160] = "";
        if (m->f[WB_ENROLL_RESPONSE_REASON].present)
            span_to_str(m->f[WB_ENROLL_RESPONSE_REASON].s, reason, sizeof reason);
        printf("wasmbed: enrollment rejected: %s\r\n", reason);
        consume_frame();
        return SESSION_FAILED;
    }
    wb_span_t cert = m->f[WB_ENROLL_RESPONSE_CERTIFICATE].s;
    wb_span_t id = m->f[WB_ENROLL_RESPONSE_DEVICE_ID].s;
    if (!m->f[WB_ENROLL_RESPONSE_CERTIFICATE].present || cert.len == 0 ||
        !m->f[WB_ENROLL_RESPONSE_DEVICE_ID].present || id.len == 0) {
        /* found by fuzz_session: an acceptance with nothing to store is no enrollment */
        printf("wasmbed: enrollment accepted without a certificate or id; ignored\r\n");
        consume_frame();
        return SESSION_FAILED;
    }
    store_put_cert(cert.ptr, cert.len, id.ptr, id.len);
    span_to_str(id, device_id, sizeof device_id);
    printf("wasmbed: enrolled id=%s cert=%lu bytes\r\n", device_id, (unsigned long)cert.len);
    consume_frame();
    return SESSION_ENROLLED;
}

static int heartbeat(void) {
    wb_msg_t *const m = &msg;
    msg_init(m, WB_MSG_HEARTBEAT, next_id++);
    wb_set_uint(m, WB_HEARTBEAT_UPTIME_MS, hal_millis());
    wb_set_uint(m, WB_HEARTBEAT_FREE_MEMORY, heap_free());
    m->f[WB_HEARTBEAT_RUNNING_APPS] = (wb_value_t){.present = true, .n = 0};
    if (app_running()) { /* the gateway and API compare this with what they believe */
        const char *id = app_id();
        m->f[WB_HEARTBEAT_RUNNING_APPS].n = 1;
        m->f[WB_HEARTBEAT_RUNNING_APPS].texts[0] = (wb_span_t){(const uint8_t *)id,
                                                              (uint32_t)strlen(id)};
    }
    return send_msg(m);
}

static int reply_error(uint32_t msg_id, uint32_t code, const char *text) {
    wb_msg_t *const reply = &txm;
    msg_init(reply, WB_MSG_ERROR, msg_id);
    wb_set_uint(reply, WB_ERROR_CODE, code);
    wb_set_str(reply, WB_ERROR_MESSAGE, text);
    return send_msg(reply);
}

/* --- the operational session ----------------------------------------------------------- */

static const provision_t *session_prov;
static uint32_t interval_ms, last_ack, next_beat, out_seq;
static bool link_failed, run_pending;

static int send_ack(uint32_t msg_id, wb_span_t module_id, int step, uint32_t offset,
                    const app_error_t *err) {
    wb_msg_t *const ack = &txm;
    msg_init(ack, WB_MSG_DEPLOY_ACK, msg_id);
    wb_set_span(ack, WB_DEPLOY_ACK_MODULE_ID, module_id.ptr, module_id.len);
    wb_set_uint(ack, WB_DEPLOY_ACK_STEP, (uint64_t)step);
    wb_set_uint(ack, WB_DEPLOY_ACK_OFFSET, offset);
    wb_set_bool(ack, WB_DEPLOY_ACK_OK, err->code == 0);
    if (err->code) {
        wb_set_uint(ack, WB_DEPLOY_ACK_ERROR_CODE, (uint64_t)err->code);
        wb_set_str(ack, WB_DEPLOY_ACK_ERROR, err->text);
    }
    return send_msg(ack);
}

static int send_status(const char *module_id, int state, const char *error) {
    wb_msg_t *const st = &txm;
    msg_init(st, WB_MSG_APP_STATUS, next_id++);
    wb_set_str(st, WB_APP_STATUS_MODULE_ID, module_id);
    wb_set_uint(st, WB_APP_STATUS_STATE, (uint64_t)state);
    if (error && error[0]) wb_set_str(st, WB_APP_STATUS_ERROR, error);
    return send_msg(st);
}

static int send_output(const outbox_entry_t *e) {
    wb_msg_t *const out = &txm;
    msg_init(out, WB_MSG_APP_OUTPUT, next_id++);
    wb_set_str(out, WB_APP_OUTPUT_MODULE_ID, e->module_id);
    wb_set_uint(out, WB_APP_OUTPUT_SEQ, e->seq);
    wb_set_uint(out, WB_APP_OUTPUT_KIND, e->kind);
    if (e->has_text) wb_set_span(out, WB_APP_OUTPUT_TEXT, e->text, e->len);
    else wb_set_int(out, WB_APP_OUTPUT_VALUE, e->value);
    return send_msg(out);
}

static int service_step(bool busy, uint32_t wait_ms);

static void session_emit_output(const char *module_id, int kind, const char *text, size_t len,
                                int64_t value) {
    if (link_version < 2) { /* no acknowledgements: send and forget */
        outbox_entry_t once;
        memset(&once, 0, sizeof once);
        snprintf(once.module_id, sizeof once.module_id, "%s", module_id);
        once.seq = ++out_seq;
        once.kind = (uint8_t)kind;
        once.has_text = text != NULL;
        once.len = (uint16_t)(len > OUTBOX_TEXT_MAX ? OUTBOX_TEXT_MAX : len);
        if (text) memcpy(once.text, text, once.len);
        once.value = value;
        if (send_output(&once) < 0) link_failed = true;
        return;
    }
    while (outbox_full()) { /* wait for acknowledgements: never drop an output */
        if (link_failed || service_step(true, 10) < 0) return; /* the module is being stopped */
    }
    const outbox_entry_t *e = outbox_push(module_id, ++out_seq, kind, text, len, value);
    if (send_output(e) < 0) link_failed = true; /* kept: sent again next session */
}

static void dispatch(wb_msg_t *m, bool busy) {
    app_error_t err = {0, ""};
    static const app_error_t busy_err = {WB_ERROR_CODE_RESOURCE_EXHAUSTED,
                                         "a module is running; stop it first"};
    switch (m->type) {
    case WB_MSG_HEARTBEAT_ACK:
        last_ack = hal_millis();
        clock_set_unix((int64_t)m->f[WB_HEARTBEAT_ACK_TIME_UNIX].u);
        interval_ms = (uint32_t)m->f[WB_HEARTBEAT_ACK_INTERVAL_S].u * 1000u;
        break;
    case WB_MSG_DEPLOY_BEGIN: {
        wb_span_t id = m->f[WB_DEPLOY_BEGIN_MODULE_ID].s;
        uint32_t off = busy ? 0 : app_begin(m, (uint32_t)session_prov->max_module_size,
                                            (uint32_t)session_prov->wasm_ram, &err);
        send_ack(m->msg_id, id, WB_DEPLOY_STEP_BEGIN, off, busy ? &busy_err : &err);
        break;
    }
    case WB_MSG_DEPLOY_CHUNK: {
        wb_span_t id = m->f[WB_DEPLOY_CHUNK_MODULE_ID].s;
        uint32_t off = busy ? 0 : app_chunk(m, &err);
        send_ack(m->msg_id, id, WB_DEPLOY_STEP_CHUNK, off, busy ? &busy_err : &err);
        break;
    }
    case WB_MSG_DEPLOY_COMMIT: {
        wb_span_t id = m->f[WB_DEPLOY_COMMIT_MODULE_ID].s;
        if (!busy) app_commit(m, &err);
        send_ack(m->msg_id, id, WB_DEPLOY_STEP_COMMIT, 0, busy ? &busy_err : &err);
        if (!busy && !err.code && app_ready()) run_pending = true;
        break;
    }
    case WB_MSG_STOP_APP: {
        wb_span_t id = m->f[WB_STOP_APP_MODULE_ID].s;
        if (busy && app_matches(id)) {
            app_request_stop(); /* the runner reports Stopped when it unwinds */
        } else {
            char mid[65];
            span_to_str(id, mid, sizeof mid);
            send_status(mid, WB_APP_STATE_STOPPED, NULL);
        }
        break;
    }
    case WB_MSG_OUTPUT_ACK: {
        wb_span_t id = m->f[WB_OUTPUT_ACK_MODULE_ID].s;
        outbox_ack(id.ptr, id.len, (uint32_t)m->f[WB_OUTPUT_ACK_SEQ].u);
        break;
    }
    case WB_MSG_ERROR:
        printf("wasmbed: gateway error %lu\r\n", (unsigned long)m->f[WB_ERROR_CODE].u);
        break;
    default: /* a device-to-gateway message from the gateway: Error, then close */
        reply_error(m->msg_id, WB_ERROR_CODE_BAD_FRAME, "not a gateway-to-device message");
        printf("wasmbed: disconnected: gateway sent message type %lu\r\n",
               (unsigned long)m->type);
        link_failed = true;
    }
}

/* One turn of the session: a heartbeat when due, the ack deadline, one received frame.
 * `busy` while a module runs (deploy steps are then refused). -1 when the link is lost. */
static int service_step(bool busy, uint32_t wait_ms) {
    uint32_t now = hal_millis();
    if ((int32_t)(now - next_beat) >= 0) {
        if (heartbeat() < 0) link_failed = true;
        next_beat = now + interval_ms;
    }
    if (!link_failed && now - last_ack > 3u * interval_ms + 2000u) {
        printf("wasmbed: disconnected: no heartbeat ack\r\n");
        link_failed = true;
    }
    if (link_failed) return -1;
    wb_msg_t *const m = &msg;
    int got = recv_msg(m, wait_ms);
    if (got < 0) {
        printf("wasmbed: disconnected: link error %d\r\n", got);
        link_failed = true;
        return -1;
    }
    if (got > 0) {
        dispatch(m, busy);
        consume_frame();
    }
    return 0;
}

static int session_service(uint32_t ms) { /* only called from inside a running module */
    uint32_t start = hal_millis();
    do {
        if (service_step(true, 10) < 0) return -1;
    } while (hal_millis() - start < ms);
    return 0;
}

static session_result_t operate(uint32_t interval_s) {
    printf("wasmbed: connected id=%s interval=%lus\r\n", device_id, (unsigned long)interval_s);
    interval_ms = interval_s * 1000u;
    last_ack = next_beat = hal_millis();
    link_failed = run_pending = false;
    for (size_t i = 0; i < outbox_count(); i++) /* unacknowledged outputs, oldest first */
        if (send_output(outbox_at(i)) < 0) return SESSION_FAILED;
    for (;;) {
        if (service_step(false, 20) < 0) return SESSION_FAILED;
        if (run_pending) {
            run_pending = false;
            char mid[65];
            snprintf(mid, sizeof mid, "%s", app_id());
            printf("wasmbed: app %s running\r\n", mid);
            if (send_status(mid, WB_APP_STATE_RUNNING, NULL) < 0) return SESSION_FAILED;
            app_error_t err;
            static const app_host_t host = {session_service, session_emit_output};
            int state = app_run(&host, &err);
            if (send_status(mid, state, err.text) < 0 || link_failed) return SESSION_FAILED;
        }
    }
}

/* A UART has no connection boundary: bytes of the previous session may still arrive.
 * Discards what has arrived, then whatever comes until the link is quiet for `quiet_ms`.
 * The TLS client skips what comes later to the server's first record (tls/record_sync.h). */
static void drain_link(uint32_t quiet_ms) {
    uint8_t junk[64];
    uint32_t last = hal_millis();
    size_t dropped = 0;
    for (;;) {
        size_t n = hal_link_read(junk, sizeof junk);
        if (n) {
            dropped += n;
            last = hal_millis();
        } else if (hal_millis() - last < quiet_ms) {
            hal_wait_link();
        } else {
            break;
        }
    }
    if (dropped) printf("wasmbed: dropped %lu stale link bytes\r\n", (unsigned long)dropped);
}

session_result_t session_run(const provision_t *prov, uint32_t settle_ms) {
    const uint8_t *cert;
    size_t cert_len;
    bool operational = store_get_cert(&cert, &cert_len, device_id, sizeof device_id);
    if (!operational) {
        cert = prov->cert.ptr;
        cert_len = prov->cert.len;
    }
    rx_len = 0;
    drain_link(settle_ms);
    printf("wasmbed: tls connecting identity=%s\r\n", operational ? "operational" : "bootstrap");
    int err = tls_open(prov, cert, cert_len);
    if (err) {
        printf("wasmbed: tls setup failed (%d)\r\n", err);
        return SESSION_FAILED;
    }
    uint32_t start = hal_millis();
    while ((err = tls_connect_step()) == 0) {
        uint32_t waited = hal_millis() - start;
        if (waited > HANDSHAKE_TIMEOUT_MS ||
            (waited > FIRST_ANSWER_TIMEOUT_MS && !tls_answered())) {
            printf("wasmbed: tls handshake timed out%s\r\n",
                   tls_answered() ? "" : ": no answer from the gateway");
            tls_close();
            return SESSION_FAILED;
        }
        hal_wait_link(); /* the handshake waits for the gateway's next flight */
    }
    if (err < 0) {
        printf("wasmbed: tls handshake failed (wolfSSL error %d)\r\n", err);
        tls_close();
        return SESSION_FAILED;
    }
    printf("wasmbed: tls connected %s in %lu ms\r\n", tls_cipher(),
           (unsigned long)(hal_millis() - start));
    session_result_t result = SESSION_FAILED;
    wb_msg_t *const m = &msg;
    link_version = 1; /* Hello and HelloAck travel in a version-1 envelope */
    msg_init(m, WB_MSG_HELLO, next_id++);
    m->f[WB_HELLO_VERSIONS] = (wb_value_t){.present = true, .n = 2, .items = {1, 2}};
    wb_set_str(m, WB_HELLO_FIRMWARE, FIRMWARE_VERSION);
    wb_set_str(m, WB_HELLO_BOARD, BOARD_NAME);
    wb_set_uint(m, WB_HELLO_MAX_FRAME, RX_CAP - WB_HEADER_SIZE);
    if (send_msg(m) == 0) {
        int got = recv_msg(m, REPLY_TIMEOUT_MS);
        if (got == 1 && m->type == WB_MSG_HELLO_ACK) {
            uint64_t chosen = m->f[WB_HELLO_ACK_VERSION].u;
            link_version = chosen >= 2 ? 2 : 1;
            clock_set_unix((int64_t)m->f[WB_HELLO_ACK_TIME_UNIX].u);
            uint32_t interval = (uint32_t)m->f[WB_HELLO_ACK_HEARTBEAT_INTERVAL_S].u;
            consume_frame();
            session_prov = prov;
            result = operational ? operate(interval) : enroll(prov);
        } else if (got < 0) {
            printf("wasmbed: refused: tls error %d (certificate not accepted?)\r\n", got);
        } else {
            printf("wasmbed: no HelloAck\r\n");
        }
    }
    tls_close();
    return result;
}
