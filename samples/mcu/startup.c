/* startup.c — reset and fault handlers for the Cortex-M4 firmware: vector table, FPU on, .data/.bss set up, stack painted.
 *
 * The linker script (link.ld) puts .data, .bss and the stack in the 32 KB RAM region and provides the symbols used
 * here. Everything below main() runs before any C library would: there is none (the firmware links only libgcc).
 */
#include <stdint.h>

#include "firmware.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

int main(void);

/* Fills the unused stack with STACK_PAINT so that firmware_stack_high_water() can find the deepest word ever written.
 * Stops 64 bytes below the live stack pointer: this function's own frame is above that. */
static void paint_stack(void) {
    uint32_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *word = __stack_limit; word < sp - 16; word++) *word = STACK_PAINT;
}

uint32_t firmware_stack_high_water(void) {
    const uint32_t *word = __stack_limit;
    while (word < __stack_top && *word == STACK_PAINT) word++;
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)word);
}

void Reset_Handler(void) {
    /* CPACR: full access to coprocessors 10 and 11 (the FPU). The Swift object uses VFP instructions (softfp ABI), and
     * they fault with UsageFault/NOCP until this is done; DSB/ISB make the change visible to the next instruction. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
    for (uint32_t *dst = __bss_start; dst < __bss_end;) *dst++ = 0;
    paint_stack();
    semihosting_exit(main());
}

/* Any fault ends the run with a message and exit status 3 instead of hanging QEMU until the timeout. */
static void Fault_Handler(void) {
    semihosting_write("firmware: fault (HardFault/MemManage/BusFault/UsageFault)\n");
    semihosting_exit(3);
}

static void Unexpected_Handler(void) {
    semihosting_write("firmware: unexpected interrupt\n");
    semihosting_exit(3);
}

/* Armv7-M vector table: initial stack pointer, then the 15 system exceptions (interrupts are never enabled). */
__attribute__((section(".vectors"), used)) static void (*const vector_table[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top,
    Reset_Handler,
    Unexpected_Handler, /* NMI */
    Fault_Handler,      /* HardFault */
    Fault_Handler,      /* MemManage */
    Fault_Handler,      /* BusFault */
    Fault_Handler,      /* UsageFault */
    0, 0, 0, 0,
    Unexpected_Handler, /* SVCall */
    Unexpected_Handler, /* DebugMonitor */
    0,
    Unexpected_Handler, /* PendSV */
    Unexpected_Handler, /* SysTick */
};
