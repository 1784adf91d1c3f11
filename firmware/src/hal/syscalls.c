/* The newlib hooks a bare-metal image needs: heap, console stdout, time, exit. */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "hal.h"

extern uint8_t _heap_start, _heap_end;
static uint8_t *brk = &_heap_start;
size_t heap_peak;

void *_sbrk(ptrdiff_t incr) {
    if (brk + incr > &_heap_end || brk + incr < &_heap_start) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uint8_t *old = brk;
    brk += incr;
    if ((size_t)(brk - &_heap_start) > heap_peak) heap_peak = (size_t)(brk - &_heap_start);
    return old;
}

size_t heap_free(void) { return (size_t)(&_heap_end - brk); }

int _write(int fd, const char *buf, int len) {
    (void)fd;
    hal_console_write(buf, (size_t)len);
    return len;
}

int _read(int fd, char *buf, int len) { (void)fd; (void)buf; (void)len; return 0; }
int _close(int fd) { (void)fd; return -1; }
int _lseek(int fd, int off, int whence) { (void)fd; (void)off; (void)whence; return 0; }
int _fstat(int fd, struct stat *st) { (void)fd; st->st_mode = S_IFCHR; return 0; }
int _isatty(int fd) { (void)fd; return 1; }
int _getpid(void) { return 1; }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = EINVAL; return -1; }
void _exit(int code) { (void)code; hal_reset(); for (;;) {} }

/* Wall time: set from the gateway (HelloAck/HeartbeatAck) or the provisioning blob. */
static int64_t epoch_offset_ms;
void clock_set_unix(int64_t unix_s) { epoch_offset_ms = unix_s * 1000 - (int64_t)hal_millis(); }
int _gettimeofday(struct timeval *tv, void *tz) {
    (void)tz;
    int64_t now = epoch_offset_ms + (int64_t)hal_millis();
    tv->tv_sec = (time_t)(now / 1000);
    tv->tv_usec = (suseconds_t)((now % 1000) * 1000);
    return 0;
}
void _init(void) {}
void _fini(void) {}
