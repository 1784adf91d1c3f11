#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "hal.h"
#include "wasm3.h"
#include "wb_schema.h"

#define SERVICE_EVERY 4096 /* yields between link services while a module computes */

static const char STOPPED[] = "stopped";
static const char OUT_OF_FUEL[] = "fuel budget exhausted";

static struct {
    char id[65];
    uint32_t size, have;
    uint8_t sha[32];
    char entry[65];
    uint32_t memory_limit;
    uint64_t fuel;
    uint8_t *wasm;
    bool committed, started, running, stop;
    IM3Environment env;
    IM3Runtime runtime;
    IM3Function function;
} app;

static void set_err(app_error_t *err, int code, const char *text) {
    err->code = code;
    snprintf(err->text, sizeof err->text, "%s", text);
}

static void copy_span(char *out, size_t cap, wb_span_t s) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(out, s.ptr, n);
    out[n] = 0;
}

static void unload_instance(void) {
    if (app.runtime) m3_FreeRuntime(app.runtime); /* frees the loaded module too */
    if (app.env) m3_FreeEnvironment(app.env);
    app.runtime = NULL;
    app.env = NULL;
    app.function = NULL;
    app.committed = app.started = app.running = app.stop = false;
}

static void unload(void) {
    unload_instance();
    free(app.wasm);
    memset(&app, 0, sizeof app);
}

bool app_matches(wb_span_t id) { return strlen(app.id) == id.len && !memcmp(app.id, id.ptr, id.len); }
bool app_ready(void) { return app.committed && !app.started && app.function; }
bool app_running(void) { return app.running; }
const char *app_id(void) { return app.id; }
void app_request_stop(void) { app.stop = true; }
uint32_t app_memory_in_use(void) { return app.committed ? app.memory_limit + app.size : 0; }

uint32_t app_begin(const wb_msg_t *m, uint32_t max_size, uint32_t wasm_ram, app_error_t *err) {
    err->code = 0;
    wb_span_t id = m->f[WB_DEPLOY_BEGIN_MODULE_ID].s;
    uint32_t size = (uint32_t)m->f[WB_DEPLOY_BEGIN_SIZE].u;
    wb_span_t sha = m->f[WB_DEPLOY_BEGIN_SHA256].s;
    uint32_t memory = (uint32_t)m->f[WB_DEPLOY_BEGIN_MEMORY_LIMIT].u;
    if (app.wasm && app_matches(id) && app.size == size && sha.len == 32 &&
        !memcmp(app.sha, sha.ptr, 32)) {
        /* The same module again. Mid-transfer: resume where we are. If it already ran and
         * ended (or a lost link stopped it), the gateway wants it running again: keep the
         * bytes, drop the old instance, and the commit loads a fresh one. */
        if (app.started && !app.running) unload_instance();
        return app.have;
    }
    if (size > max_size) {
        char text[96];
        snprintf(text, sizeof text, "module is %lu bytes; this device accepts at most %lu",
                 (unsigned long)size, (unsigned long)max_size);
        set_err(err, WB_ERROR_CODE_MODULE_TOO_LARGE, text);
        return 0;
    }
    if (memory > wasm_ram || sha.len != 32) {
        set_err(err, WB_ERROR_CODE_RESOURCE_EXHAUSTED, "memory limit over the device's wasm RAM");
        return 0;
    }
    unload(); /* one module at a time: a new one replaces the old */
    app.wasm = malloc(size ? size : 1);
    if (!app.wasm) {
        set_err(err, WB_ERROR_CODE_RESOURCE_EXHAUSTED, "no memory for the module");
        return 0;
    }
    copy_span(app.id, sizeof app.id, id);
    copy_span(app.entry, sizeof app.entry, m->f[WB_DEPLOY_BEGIN_ENTRY].s);
    memcpy(app.sha, sha.ptr, 32);
    app.size = size;
    app.memory_limit = memory;
    app.fuel = m->f[WB_DEPLOY_BEGIN_FUEL_LIMIT].u;
    printf("wasmbed: app %s receiving %lu bytes\r\n", app.id, (unsigned long)size);
    return 0;
}

uint32_t app_chunk(const wb_msg_t *m, app_error_t *err) {
    err->code = 0;
    wb_span_t data = m->f[WB_DEPLOY_CHUNK_DATA].s;
    uint32_t offset = (uint32_t)m->f[WB_DEPLOY_CHUNK_OFFSET].u;
    if (!app.wasm || !app_matches(m->f[WB_DEPLOY_CHUNK_MODULE_ID].s)) {
        set_err(err, WB_ERROR_CODE_UNKNOWN_MODULE, "chunk for a module that was not begun");
        return 0;
    }
    if (offset != app.have) {
        set_err(err, WB_ERROR_CODE_OUT_OF_ORDER, "chunk at the wrong offset");
        return app.have;
    }
    if (data.len > app.size - app.have) {
        set_err(err, WB_ERROR_CODE_MODULE_TOO_LARGE, "chunk runs past the announced size");
        return app.have;
    }
    memcpy(app.wasm + app.have, data.ptr, data.len);
    app.have += data.len;
    return app.have;
}

static m3ApiRawFunction(host_log);
static m3ApiRawFunction(host_report);
static m3ApiRawFunction(host_uptime);
static m3ApiRawFunction(host_sleep);

void app_commit(const wb_msg_t *m, app_error_t *err) {
    err->code = 0;
    if (!app.wasm || !app_matches(m->f[WB_DEPLOY_COMMIT_MODULE_ID].s)) {
        set_err(err, WB_ERROR_CODE_UNKNOWN_MODULE, "commit for a module that was not begun");
        return;
    }
    if (app.committed) return; /* idempotent: never restarts a module */
    uint8_t digest[32];
    wc_Sha256 sha;
    wc_InitSha256(&sha);
    wc_Sha256Update(&sha, app.wasm, app.have);
    wc_Sha256Final(&sha, digest);
    if (app.have != app.size || memcmp(digest, app.sha, 32) != 0) {
        set_err(err, WB_ERROR_CODE_HASH_MISMATCH, "sha256 mismatch: module discarded");
        unload(); /* never keep, never run bytes that fail the hash */
        return;
    }
    app.env = m3_NewEnvironment();
    app.runtime = app.env ? m3_NewRuntime(app.env, 4096, NULL) : NULL;
    IM3Module module = NULL;
    M3Result r = app.runtime ? m3_ParseModule(app.env, &module, app.wasm, app.size)
                             : "out of memory";
    if (!r) r = m3_LoadModule(app.runtime, module);
    if (!r) {
        static const struct { const char *name, *sig; M3RawCall fn; } host[] = {
            {"log", "v(ii)", host_log}, {"report", "v(I)", host_report},
            {"uptime_ms", "I()", host_uptime}, {"sleep_ms", "v(i)", host_sleep}};
        for (size_t i = 0; i < sizeof host / sizeof host[0] && !r; i++) {
            r = m3_LinkRawFunction(module, "env", host[i].name, host[i].sig, host[i].fn);
            if (r == m3Err_functionLookupFailed) r = NULL; /* the module does not use it */
        }
    }
    if (!r) r = m3_FindFunction(&app.function, app.runtime, app.entry);
    if (r) {
        char text[96];
        snprintf(text, sizeof text, "invalid module: %s", r);
        set_err(err, WB_ERROR_CODE_INVALID_MODULE, text);
        unload();
        return;
    }
    app.committed = true;
}

/* --- running ---------------------------------------------------------------------------- */

static uint32_t yields;
static const app_host_t *host; /* set for the duration of app_run */

M3Result m3_Yield(void) { /* overrides wasm3's weak no-op: called on calls and loop edges */
    if (!app.running) return m3Err_none;
    if (app.fuel == 0) return OUT_OF_FUEL;
    app.fuel--;
    if (++yields % SERVICE_EVERY == 0 && host->service(0) != 0) app.stop = true;
    return app.stop ? STOPPED : m3Err_none;
}

static m3ApiRawFunction(host_log) {
    (void)_ctx;
    m3ApiGetArgMem(const char *, text);
    m3ApiGetArg(int32_t, len);
    if (len < 0) len = 0;
    m3ApiCheckMem(text, (uint32_t)len);
    host->emit_output(app.id, WB_OUTPUT_KIND_LOG, text, (size_t)(len > 256 ? 256 : len), 0);
    m3ApiSuccess();
}

static m3ApiRawFunction(host_report) {
    (void)runtime; (void)_ctx; (void)_mem;
    m3ApiGetArg(int64_t, value);
    host->emit_output(app.id, WB_OUTPUT_KIND_VALUE, NULL, 0, value);
    m3ApiSuccess();
}

static m3ApiRawFunction(host_uptime) {
    (void)runtime; (void)_ctx; (void)_mem;
    m3ApiReturnType(int64_t);
    m3ApiReturn((int64_t)hal_millis());
}

static m3ApiRawFunction(host_sleep) {
    (void)runtime; (void)_ctx; (void)_mem;
    m3ApiGetArg(int32_t, ms);
    if (host->service(ms < 0 ? 0 : (uint32_t)(ms > 60000 ? 60000 : ms)) != 0) app.stop = true;
    if (app.stop) m3ApiTrap(STOPPED);
    m3ApiSuccess();
}

int app_run(const app_host_t *runner, app_error_t *err) {
    host = runner;
    err->code = 0;
    err->text[0] = 0;
    app.running = app.started = true;
    app.stop = false;
    M3Result r = m3_CallV(app.function);
    app.running = false;
    int state;
    if (r == STOPPED) {
        state = WB_APP_STATE_STOPPED;
    } else if (r) {
        state = WB_APP_STATE_FAILED;
        const char *text = strncmp(r, "[trap] ", 7) == 0 ? r + 7 : r;
        snprintf(err->text, sizeof err->text, "%s%s", r == OUT_OF_FUEL ? "" : "trap: ", text);
    } else {
        state = WB_APP_STATE_COMPLETED;
        if (m3_GetRetCount(app.function) == 1) {
            int64_t value = 0;
            if (m3_GetRetType(app.function, 0) == c_m3Type_i64) {
                m3_GetResultsV(app.function, &value);
            } else {
                int32_t v32 = 0;
                m3_GetResultsV(app.function, &v32);
                value = v32;
            }
            host->emit_output(app.id, WB_OUTPUT_KIND_RESULT, NULL, 0, value);
        }
    }
    printf("wasmbed: app %s %s%s%s\r\n", app.id,
           state == WB_APP_STATE_COMPLETED ? "completed" :
           state == WB_APP_STATE_STOPPED ? "stopped" : "failed",
           err->text[0] ? ": " : "", err->text);
    return state;
}
