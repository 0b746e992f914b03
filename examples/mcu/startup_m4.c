/* SPDX-License-Identifier: Apache-2.0 */
/* startup_m4.c: the least a Cortex-M4 needs to run examples/mcu/main.c under QEMU (`-M mps2-an386`): the vector
 * table, a reset handler (copy .data, zero .bss, enable the FPU, start SysTick, call main, report its status), a
 * tick counter, and console output and exit through Arm semihosting (QEMU's -semihosting). A real board replaces
 * this file with its vendor's startup code and a UART; nothing in it is part of the engine. */
#include <stdint.h>
#include <string.h>

extern int main(void);
extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[], __stack_top[];

/* Semihosting call: operation in r0, argument in r1, result in r0 (Arm semihosting v2, 'bkpt 0xAB' on M-profile). */
static uintptr_t semihost(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_puts(const char *s) { semihost(0x04, s); } /* SYS_WRITE0 */

/* SysTick on the processor clock, free-running from 2^24 - 1 down (started in Reset_Handler). */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

uint32_t board_ticks(void) { return SYST_CVR; }

/* Instructions per SysTick tick, times 16: a loop of 2 * LOOPS instructions (subs + bne) timed once. Meaningful
 * under QEMU's -icount shift=0, where the clock advances 1 ns per instruction (run_qemu.sh passes it). */
uint32_t board_insns_per_tick_x16(void)
{
    enum { LOOPS = 200000 };
    static uint32_t cached;
    if (!cached) {
        uint32_t n = LOOPS, t0 = board_ticks();
        __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
        uint32_t ticks = (t0 - board_ticks()) & 0xFFFFFFu;
        cached = ticks ? (uint32_t)(16ull * 2 * LOOPS / ticks) : 16;
    }
    return cached;
}

void board_exit(int status)
{
    uintptr_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uintptr_t)status};
    semihost(0x20, block); /* SYS_EXIT_EXTENDED: exit status reaches the host */
    for (;;)
        ;
}

void Reset_Handler(void)
{
    memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: full access to CP10/CP11 (the FPU) */
    __asm__ volatile("dsb\n isb");
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* enable, processor clock, no interrupt */
    board_exit(main());
}

static void Fault_Handler(void)
{
    board_puts("fault\n");
    board_exit(3);
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler};
