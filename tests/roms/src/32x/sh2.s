! 32X test ROM, SH-2 side (GNU as, big endian). The 68000 side, test.s,
! carries this program's binary; the boot code (the console's or the
! emulator's stand-in) copies it to SDRAM at $06000000 and starts the master
! SH-2 at $06000000 and the slave at $06000004. Behaviour is documented in
! tests/roms/README.md; keep the two in sync.
!
! Master: takes the 32X VDP (FM = 1), selects packed-pixel mode, draws a
! checkerboard of 8x8 squares (colour 1 where (column + row) is odd, colour
! 0 where it is even) into both frame buffers, then sets palette colour 0
! each time the 68000 posts a new frame counter in COMM8 (pad 1 in COMM10):
! blue while A is held, otherwise red 31 with green = counter mod 32.
! Slave: counts in a loop and posts the count to COMM12, so the 68000's copy
! of it shows how the SH-2s and the 68000 interleave.

        .text
        .big

        .org 0
        bra     master
        nop
        bra     slave
        nop

master:
        mov.l   sysreg, r14
        mov     #0x80, r0
        mov.b   r0, @r14                ! FM = 1: the SH-2s own the 32X VDP
        mov.l   vdpreg, r13
        mov     #1, r0
        mov.w   r0, @r13                ! bitmap mode 1: packed pixels, 8 bits each
        mov.l   palette, r10
        mov     #0, r0
        mov.w   r0, @(2,r10)            ! colour 1: black
        mov.w   r0, @r10                ! colour 0: black until the first frame

        mov     #2, r12                 ! draw both frame buffers
draw:
        mov.l   framebuffer, r1
        ! line table: 256 words, line y starts at word $100 + 160 * y
        mov     #80, r3
        shll    r3                      ! 160 words = 320 pixels a line
        mov.w   first_line, r2
        mov.w   lines, r4
1:      mov.w   r2, @r1
        add     #2, r1
        add     r3, r2
        dt      r4
        bf      1b
        ! pixels, from byte $200: 224 lines of 40 groups of 8 pixels
        mov     #0, r5                  ! y
        mov.l   ones, r7
2:      mov     r5, r0
        shlr2   r0
        shlr    r0
        and     #1, r0                  ! (y >> 3) & 1
        mov     r0, r6
        neg     r6, r6                  ! 0 or $FFFFFFFF
        and     r7, r6                  ! the first square's 4 pixels: 0 or $01010101
        mov     #40, r4
3:      mov.l   r6, @r1
        mov.l   r6, @(4,r1)
        add     #8, r1
        xor     r7, r6                  ! the next square has the other colour
        dt      r4
        bf      3b
        add     #1, r5
        mov.w   visible, r0
        cmp/eq  r0, r5
        bf      2b
        ! show this buffer: flip FS, wait until the VDP has flipped (next vblank)
        mov.w   @(10,r13), r0
        xor     #1, r0
        and     #1, r0
        mov     r0, r8
        mov.w   r0, @(10,r13)
4:      mov.w   @(10,r13), r0
        and     #1, r0
        cmp/eq  r0, r8
        bf      4b
        dt      r12
        bf      draw

        mov.l   comm, r11
        mov     #-1, r9                 ! last counter seen
loop:
        mov.w   @(8,r11), r0            ! COMM8: frame counter
        cmp/eq  r0, r9
        bt      loop
        mov     r0, r9
        mov.w   @(10,r11), r0           ! COMM10: pad 1, S A C B R L D U
        tst     #0x40, r0
        bf      blue
        mov     r9, r0
        and     #31, r0
        shll2   r0
        shll2   r0
        shll    r0                      ! green = counter mod 32
        or      #31, r0                 ! red = 31
        bra     set
        nop
blue:
        mov.w   blue_colour, r0
set:
        mov.w   r0, @r10                ! palette colour 0
        bra     loop
        nop

slave:
        mov.l   comm, r11
        mov     #0, r1
5:      add     #1, r1                  ! counts as fast as it runs
        mov     r1, r0
        mov.w   r0, @(12,r11)           ! COMM12, which the 68000 copies to RAM
        bra     5b
        nop

        .align 2
first_line:  .word 0x100
lines:       .word 256
visible:     .word 224
blue_colour: .word 0x7C00               ! BGR555: blue 31
        .align 4
sysreg:      .long 0x20004000
vdpreg:      .long 0x20004100
comm:        .long 0x20004020
palette:     .long 0x20004200
framebuffer: .long 0x24000000
ones:        .long 0x01010101
