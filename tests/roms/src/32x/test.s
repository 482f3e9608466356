| 32X test ROM, 68000 side (GNU as, m68k). Behaviour is documented in
| tests/roms/README.md; keep the two in sync. The SH-2 program is sh2.s,
| assembled first and included here as sh2.bin.
|
| 68000 RAM map ($FF0000-$FFFFFF, cleared at reset):
|   $FF0000-$FF0001  frame counter, 16-bit big endian, +1 in every VDP vblank interrupt
|   $FF0002          pad 1, 1 = pressed: Start<<7|A<<6|C<<5|B<<4|Right<<3|Left<<2|Down<<1|Up
|   $FF0003          pad 2, same layout
|   $FF0004          number of interrupts in which pad 1's A was held (8-bit, wraps)
|   $FF0006-$FF0007  the slave SH-2's loop count (COMM12) when the interrupt ran
| The interrupt also posts pad 1 to COMM10 and then the counter to COMM8,
| from where the master SH-2 sets the 32X palette's colour 0.
|
| Assembled with --defsym LOW_IDLE=1 (the 32x_idle ROM), the 68000 idles
| instead in a loop that polls the VDP status for each vblank's start and
| end, as games wait for vblank, at a low address (below $10000), where
| PicoDrive shows the cartridge's first 64 KB from a copy it keeps in its
| 32X memory.

        .ifndef LOW_IDLE
        LOW_IDLE = 0
        .endif

        .text

        VDP_DATA = 0xC00000
        VDP_CTRL = 0xC00004
        PAD1     = 0xA10003
        PAD2     = 0xA10005
        CTRL1    = 0xA10009
        CTRL2    = 0xA1000B
        ADAPTER  = 0xA15101
        COMM8    = 0xA15128
        COMM10   = 0xA1512A
        COMM12   = 0xA1512C
        RAM      = 0xFF0000
        CART32X  = 0x880000     | where the cartridge is once the 32X is on

        .org 0x000              | 68000 vectors while the 32X is off
        .long 0x00FFFE00        | stack
        .long start
        .rept 62
        .long trap
        .endr

        .org 0x100              | Mega Drive header
        .ascii "SEGA 32X"
        .org 0x110
        .ascii "(C)RETRO 2026"
        .org 0x120
        .ascii "RETRO TEST"
        .org 0x150
        .ascii "RETRO TEST"
        .org 0x180
        .ascii "GM 00000000-00"
        .word 0                 | checksum
        .ascii "J"
        .org 0x1A0
        .long 0, rom_end - 1
        .long 0xFF0000, 0xFFFFFF
        .org 0x1F0
        .ascii "JUE"

        .org 0x200              | 32X on: vector n jumps to $880200 + 6 * (n - 1)
        jmp     (CART32X + start).l
        .rept 28
        jmp     (CART32X + trap).l
        .endr
        jmp     (CART32X + vint).l      | $2AE: vector 30, level 6 (VDP vblank)
        .rept 17
        jmp     (CART32X + trap).l
        .endr

        .org 0x3C0              | 32X header
        .ascii "MARS CHECK MODE "
        .long 0                 | version
        .long sh2_code          | SH-2 program in the ROM,
        .long 0                 | copied to SDRAM offset 0,
        .long sh2_end - sh2_code        | this many bytes
        .long 0x06000000        | master SH-2 entry
        .long 0x06000004        | slave SH-2 entry
        .long 0x06000000        | master VBR
        .long 0x06000000        | slave VBR

        .org 0x3F0
start:
        move.w  #0x2700, %sr
        move.b  0xA10001, %d0   | TMSS: a console with a version > 0 wants 'SEGA'
        andi.b  #0x0F, %d0
        beq.s   1f
        move.l  #0x53454741, 0xA14000
1:      lea     RAM, %a0        | clear the 64 KB of RAM
        move.w  #0x3FFF, %d0
2:      clr.l   (%a0)+
        dbra    %d0, 2b
        move.l  #0x00FFFE00, %sp
        move.b  #1, ADAPTER     | ADEN: the 32X on, SH-2s held in reset
        move.b  #3, ADAPTER     | nRES: the SH-2s start
        jmp     (CART32X + main).l

main:
        lea     VDP_CTRL, %a1
        lea     VDP_DATA, %a2
        tst.w   (%a1)
        lea     vdp_registers(%pc), %a0
        moveq   #(vdp_registers_end - vdp_registers) / 2 - 1, %d0
3:      move.w  (%a0)+, (%a1)
        dbra    %d0, 3b
        move.l  #0x40000000, (%a1)      | clear all 64 KB of VRAM
        move.w  #0x7FFF, %d0
4:      move.w  #0, (%a2)
        dbra    %d0, 4b
        move.l  #0xC0000000, (%a1)      | clear CRAM: the backdrop is black
        moveq   #63, %d0
5:      move.w  #0, (%a2)
        dbra    %d0, 5b
        move.l  #0x40000010, (%a1)      | clear VSRAM
        moveq   #39, %d0
6:      move.w  #0, (%a2)
        dbra    %d0, 6b
        move.b  #0x40, CTRL1    | TH is an output on both pad ports
        move.b  #0x40, CTRL2
        move.b  #0x40, PAD1
        move.b  #0x40, PAD2
        move.w  #0x8164, (%a1)  | display on, vblank interrupt on, mode 5
        move.w  #0x2000, %sr    | interrupts on
        .if LOW_IDLE
        jmp     (wait_vblank).l | the cartridge's first 64 KB, as PicoDrive maps it

| Idle by polling the VDP status (%a1 = VDP_CTRL): wait for a vblank to
| start (bit 3 set), then for it to end, and again.
wait_vblank:
        move.w  (%a1), %d0
        btst    #3, %d0
        beq.s   wait_vblank
wait_display:
        move.w  (%a1), %d0
        btst    #3, %d0
        bne.s   wait_display
        bra.s   wait_vblank
        .else
forever:
        bra.s   forever
        .endif

| Read a 3-button pad at (%a0); %d0 = Start A C B Right Left Down Up, 1 = pressed.
read_pad:
        move.b  #0x40, (%a0)    | TH = 1: C B Right Left Down Up
        nop
        nop
        move.b  (%a0), %d0
        move.b  #0x00, (%a0)    | TH = 0: Start A 0 0 Down Up
        nop
        nop
        move.b  (%a0), %d1
        move.b  #0x40, (%a0)
        not.b   %d0
        andi.b  #0x3F, %d0
        not.b   %d1
        andi.b  #0x30, %d1
        lsl.b   #2, %d1
        or.b    %d1, %d0
        rts

vint:
        movem.l %d0-%d1/%a0-%a1, -(%sp)
        tst.w   VDP_CTRL
        lea     RAM, %a1
        addq.w  #1, (%a1)               | frame counter
        lea     PAD1, %a0
        bsr.s   read_pad
        move.b  %d0, 2(%a1)
        lea     PAD2, %a0
        bsr.s   read_pad
        move.b  %d0, 3(%a1)
        btst    #6, 2(%a1)              | pad 1's A held: count it
        beq.s   7f
        addq.b  #1, 4(%a1)
7:      moveq   #0, %d0
        move.b  2(%a1), %d0
        move.w  %d0, COMM10             | pad first, then the counter the SH-2 waits for
        move.w  (%a1), COMM8
        move.w  COMM12, 6(%a1)          | the slave SH-2's loop count
        movem.l (%sp)+, %d0-%d1/%a0-%a1
        rte

trap:
        bra.s   trap

vdp_registers:                  | $8000 | register << 8 | value
        .word 0x8004            | 0: no H interrupt
        .word 0x8124            | 1: display off, vblank interrupt on, mode 5
        .word 0x8230            | 2: plane A at $C000
        .word 0x8334            | 3: window at $D000
        .word 0x8407            | 4: plane B at $E000
        .word 0x8578            | 5: sprites at $F000
        .word 0x8700            | 7: backdrop colour 0
        .word 0x8AFF            | 10: no H interrupt line
        .word 0x8B00            | 11: full scroll
        .word 0x8C81            | 12: 40 cells (320 pixels), as the 32X picture
        .word 0x8D3F            | 13: H scroll table at $FC00
        .word 0x8F02            | 15: auto-increment 2
        .word 0x9001            | 16: 64x32 planes
        .word 0x9100, 0x9200    | 17-18: no window
vdp_registers_end:

        .balign 4
sh2_code:
        .incbin "sh2.bin"
        .balign 4
sh2_end:

        .org 0x2000
rom_end:
