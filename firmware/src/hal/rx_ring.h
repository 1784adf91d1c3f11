/* A receive ring between one interrupt handler (the producer) and the main loop (the
 * consumer). When it fills up, the handler stops taking bytes from the UART instead of
 * dropping them: the UART (or the emulator behind it) holds them back until the main loop
 * has made room and re-enabled reception. */
#ifndef RX_RING_H
#define RX_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef BOARD_LINK_RING
#define BOARD_LINK_RING 1024 /* a power of two */
#endif

typedef struct {
    volatile uint32_t head; /* written by the handler */
    volatile uint32_t tail; /* written by the main loop */
    uint8_t buf[BOARD_LINK_RING];
} rx_ring_t;

static inline bool rx_ring_full(const rx_ring_t *r) {
    return r->head - r->tail >= BOARD_LINK_RING;
}

static inline bool rx_ring_empty(const rx_ring_t *r) { return r->head == r->tail; }

static inline void rx_ring_put(rx_ring_t *r, uint8_t byte) {
    r->buf[r->head % BOARD_LINK_RING] = byte;
    __asm__ volatile("" ::: "memory");
    r->head++;
}

static inline size_t rx_ring_take(rx_ring_t *r, uint8_t *out, size_t cap) {
    size_t n = 0;
    while (n < cap && r->tail != r->head) {
        out[n++] = r->buf[r->tail % BOARD_LINK_RING];
        r->tail++;
    }
    return n;
}

#endif
