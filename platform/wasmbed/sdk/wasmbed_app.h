/* The host ABI Wasmbed devices give apps (firmware and virtual devices alike). */
#ifndef WASMBED_APP_H
#define WASMBED_APP_H

#define WB_IMPORT(name) __attribute__((import_module("env"), import_name(name)))
#define WB_EXPORT(name) __attribute__((export_name(name)))

WB_IMPORT("log") void wb_log(const char *text, int len);
WB_IMPORT("report") void wb_report(long long value);
WB_IMPORT("uptime_ms") long long wb_uptime_ms(void);
WB_IMPORT("sleep_ms") void wb_sleep_ms(int ms);

#define WB_LOG(literal) wb_log(literal, (int)sizeof(literal) - 1)

#endif
