@ Game Boy Advance test ROM for the retro test-suite (GNU as syntax, ARM7TDMI,
@ ARM state throughout). Behaviour is documented in tests/roms/README.md;
@ keep the two in sync.
@
@ 4 KB, linked at $08000000 (the cartridge ROM). The header's complement
@ check ($BD) is written by build.py. The Nintendo logo area ($04-$9F) is
@ left zero: only the BIOS's boot checks it, and mgba without a BIOS image
@ starts the ROM at $08000000 directly.
@
@ RAM map (IWRAM at $03000000; all of EWRAM, 256 KB, and IWRAM below the
@ stacks, $03000000-$03007DFF, are cleared to 0 at reset):
@   $03000000-$03000001  frame counter, 16-bit little endian, +1 once per frame
@   $03000002-$03000003  KEYINPUT inverted (1 = pressed), 16-bit LE:
@                        L<<9|R<<8|Down<<7|Up<<6|Left<<5|Right<<4|Start<<3|Select<<2|B<<1|A
@   $03000004            number of frames in which A was held (8-bit, wraps)
@ There are no interrupts: the program polls VCOUNT for the first line of
@ vblank (160), does the frame's work there and waits for the line to end.

        .equ    FRAME,     0x03000000
        .equ    KEYS,      0x03000002
        .equ    HELD_A,    0x03000004

        .equ    REG_BASE,  0x04000000
        .equ    DISPCNT,   0x000
        .equ    BG0CNT,    0x008
        .equ    BG0HOFS,   0x010
        .equ    BG0VOFS,   0x012
        .equ    VCOUNT,    0x006
        .equ    KEYINPUT,  0x130
        .equ    IME,       0x208

        .equ    PALETTE,   0x05000000
        .equ    VRAM,      0x06000000
        .equ    OAM,       0x07000000
        .equ    MAP,       0x0600F800   @ screenblock 31
        .equ    EWRAM,     0x02000000

        .equ    COLOUR_A_HELD, 0x7C00   @ BGR555 blue

        .text
        .arm
        .global _start
_start:
        b       reset                   @ $00: entry point
        .space  156                     @ $04-$9F: logo, zero
        .ascii  "RETRO TEST\0\0"        @ $A0: title, 12 bytes
        .ascii  "RTST"                  @ $AC: game code
        .ascii  "00"                    @ $B0: maker code
        .byte   0x96                    @ $B2: fixed value
        .byte   0x00                    @ $B3: main unit code
        .byte   0x00                    @ $B4: device type
        .space  7                       @ $B5-$BB: reserved
        .byte   0x00                    @ $BC: version
        .byte   0x00                    @ $BD: complement check, by build.py
        .space  2                       @ $BE-$BF: reserved

reset:                                  @ $C0
        mov     r0, #0x12               @ IRQ mode: its stack at $03007FA0
        msr     cpsr_c, r0
        ldr     sp, =0x03007FA0
        mov     r0, #0x1F               @ system mode, IRQs off (none are enabled)
        orr     r0, r0, #0xC0
        msr     cpsr_c, r0
        ldr     sp, =0x03007F00

        mov     r11, #REG_BASE
        mov     r0, #0
        add     r1, r11, #IME & 0xF00
        strh    r0, [r1, #IME & 0xFF]   @ no interrupts
        mov     r0, #0x80               @ forced blank while VRAM is set up
        strh    r0, [r11, #DISPCNT]

        @ clear EWRAM, IWRAM below the stacks, VRAM, palettes and OAM
        ldr     r0, =EWRAM
        mov     r1, #0x40000
        bl      clear
        mov     r0, #0x03000000
        ldr     r1, =0x7E00
        bl      clear
        mov     r0, #VRAM
        mov     r1, #0x18000
        bl      clear
        mov     r0, #PALETTE
        mov     r1, #0x400
        bl      clear
        mov     r0, #OAM
        mov     r1, #0x400
        bl      clear

        @ tile 1 (charblock 0, 4 bpp, 32 bytes): every pixel colour 1
        ldr     r0, =VRAM + 32
        ldr     r1, =0x11111111
        mov     r2, #8
1:      str     r1, [r0], #4
        subs    r2, r2, #1
        bne     1b

        @ map (screenblock 31): 32x32 entries, tile = (row xor column) and 1
        ldr     r0, =MAP
        mov     r3, #0                  @ row
2:      mov     r2, #0                  @ column
3:      eor     r1, r2, r3
        and     r1, r1, #1
        strh    r1, [r0], #2
        add     r2, r2, #1
        cmp     r2, #32
        bne     3b
        add     r3, r3, #1
        cmp     r3, #32
        bne     2b

        mov     r0, #0
        strh    r0, [r11, #BG0HOFS]
        strh    r0, [r11, #BG0VOFS]
        ldr     r0, =0x1F00             @ BG0: charblock 0, 4 bpp, screenblock 31, 256x256
        strh    r0, [r11, #BG0CNT]
        bl      set_colour              @ frame 0, no keys
        ldr     r0, =0x0100             @ mode 0, BG0 on
        strh    r0, [r11, #DISPCNT]

frame:
        @ wait for the first line of vblank
4:      ldrh    r0, [r11, #VCOUNT]
        cmp     r0, #160
        bne     4b

        ldr     r4, =FRAME              @ 16-bit frame counter
        ldrh    r0, [r4]
        add     r0, r0, #1
        strh    r0, [r4]

        add     r1, r11, #KEYINPUT & 0xF00
        ldrh    r0, [r1, #KEYINPUT & 0xFF] @ keys, active low
        ldr     r1, =0x03FF
        eor     r0, r0, r1
        and     r0, r0, r1
        strh    r0, [r4, #KEYS - FRAME]

        tst     r0, #1                  @ A held -> count it
        ldrneb  r1, [r4, #HELD_A - FRAME]
        addne   r1, r1, #1
        strneb  r1, [r4, #HELD_A - FRAME]

        bl      set_colour

        @ wait for line 160 to end, so the frame's work is done once
5:      ldrh    r0, [r11, #VCOUNT]
        cmp     r0, #160
        beq     5b
        b       frame

@ BG palette colour 0 (BGR555): COLOUR_A_HELD if A is held,
@ else red 31, green = frame and 31, blue 0.
set_colour:
        ldr     r2, =FRAME
        ldrh    r0, [r2, #KEYS - FRAME]
        tst     r0, #1
        ldrne   r1, =COLOUR_A_HELD
        bne     1f
        ldrh    r0, [r2]
        and     r0, r0, #0x1F
        mov     r1, #0x1F
        orr     r1, r1, r0, lsl #5
1:      mov     r0, #PALETTE
        strh    r1, [r0]
        bx      lr

@ Clear r1 bytes (a multiple of 32) from r0. Clobbers r0-r9.
clear:
        mov     r2, #0
        mov     r3, #0
        mov     r4, #0
        mov     r5, #0
        mov     r6, #0
        mov     r7, #0
        mov     r8, #0
        mov     r9, #0
1:      stmia   r0!, {r2-r9}
        subs    r1, r1, #32
        bne     1b
        bx      lr

        .ltorg
        .org    0x1000                  @ a 4 KB image
