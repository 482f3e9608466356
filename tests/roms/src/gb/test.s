; Game Boy / Game Boy Color test ROM for the retro test-suite
; (sdasgb syntax, Sharp SM83). One source for both ROMs: build.py writes the
; CGB flag ($0143: $00 for gb.gb, $80 for gbc.gbc), the header checksum and
; the global checksum after linking. The Nintendo logo area ($0104-$0133) is
; left zero: without a boot ROM, gambatte and mgba start at $0100 and do not
; check it. Behaviour is documented in tests/roms/README.md; keep the two in sync.
;
; 32 KB, no MBC, no cartridge RAM. The program tells DMG from CGB by the value
; of A at $0100 ($11 on a CGB, whatever the header says).
;
; RAM map (all WRAM, $C000-$DFFF and on a CGB banks 2-7 too, and HRAM are
; cleared to 0 at reset):
;   $C000-$C001  frame counter, 16-bit little endian, +1 in every vblank interrupt
;   $C002        pad (1 = pressed): Down<<7|Up<<6|Left<<5|Right<<4|Start<<3|Select<<2|B<<1|A
;   $C003        number of vblank interrupts in which A was held (8-bit, wraps)
;   $C004        $01 if running as a CGB, else $00

        .module test

        ; I/O registers, as offsets from $FF00 for ldh
        P1   = 0x00
        IF   = 0x0F
        LCDC = 0x40
        STAT = 0x41
        SCY  = 0x42
        SCX  = 0x43
        LY   = 0x44
        BGP  = 0x47
        VBK  = 0x4F
        BCPS = 0x68
        BCPD = 0x69
        SVBK = 0x70
        IE   = 0xFF

        FRAME_LO = 0xC000
        FRAME_HI = 0xC001
        PAD      = 0xC002
        HELD_A   = 0xC003
        IS_CGB   = 0xC004

        .area ROM (ABS)

        .org 0x0040             ; vblank interrupt
        jp      vblank

        .org 0x0100             ; entry point
        nop
        jp      reset

        .org 0x0104             ; Nintendo logo: zeros, not needed without a boot ROM
        .rept   0x30
        .db     0x00
        .endm

        .org 0x0134             ; title (15 bytes, zero-padded)
        .ascii  "RETRO TEST"
        .db     0, 0, 0, 0, 0
        .org 0x0143
        .db     0x00            ; CGB flag: written by build.py
        .db     0x00, 0x00      ; new licensee code
        .db     0x00            ; no SGB functions
        .db     0x00            ; cartridge type: ROM only
        .db     0x00            ; ROM size: 32 KB
        .db     0x00            ; no RAM
        .db     0x01            ; destination: non-Japanese
        .db     0x33            ; old licensee code: see the new one
        .db     0x00            ; version
        .db     0x00            ; header checksum: written by build.py
        .db     0x00, 0x00      ; global checksum (big endian): written by build.py

        .org 0x0150
reset:
        di
        ld      sp, #0xFFFF     ; stack in HRAM ($FFFE down)
        ld      b, #0           ; B = 1 on a CGB
        cp      #0x11
        jr      nz, 1$
        inc     b
1$:
        ; LCD off, at the start of a vblank
2$:     ldh     a, (LY)
        cp      #144
        jr      nz, 2$
        xor     a
        ldh     (LCDC), a
        ldh     (IE), a
        ldh     (IF), a
        ldh     (SCX), a
        ldh     (SCY), a

        ; clear WRAM: $C000-$DFFF; on a CGB each of the banks 1-7 at $D000
        ld      hl, #0xC000
        ld      de, #0x2000 / 8
        call    clear
        ld      a, b
        or      a
        jr      z, 4$
        ld      c, #2           ; banks 2..7 (bank 1 was cleared above)
3$:     ld      a, c
        ldh     (SVBK), a
        ld      hl, #0xD000
        ld      de, #0x1000 / 8
        call    clear
        inc     c
        ld      a, c
        cp      #8
        jr      nz, 3$
        ld      a, #1
        ldh     (SVBK), a
4$:
        ; clear HRAM below the stack: $FF80-$FFFC
        ld      hl, #0xFF80
        ld      de, #0x78 / 8
        call    clear           ; $FF80-$FFF7; A = 0
        ld      c, #5
10$:    ld      (hl+), a        ; $FFF8-$FFFC
        dec     c
        jr      nz, 10$
        ld      a, b
        ld      (IS_CGB), a

        ; tiles at $8000: tile 0 all colour 0, tile 1 all colour 1
        ld      hl, #0x8000
        ld      de, #0x2000 / 8 ; clear all tile data and both maps
        call    clear
        ld      hl, #0x8010
        ld      c, #8
5$:     ld      a, #0xFF        ; low plane set, high plane clear: colour 1
        ld      (hl+), a
        xor     a
        ld      (hl+), a
        dec     c
        jr      nz, 5$

        ; map at $9800: 32x32 tiles, tile = (row xor column) and 1
        ld      hl, #0x9800
        xor     a
        ld      d, #32          ; rows
6$:     ld      e, #32          ; columns
7$:     ld      (hl+), a
        xor     #1
        dec     e
        jr      nz, 7$
        xor     #1              ; even row length: flip for the next row
        dec     d
        jr      nz, 6$

        ld      a, b
        or      a
        jr      z, 9$
        ; CGB: map attributes (VRAM bank 1) = 0: BG palette 0, no flips
        ld      a, #1
        ldh     (VBK), a
        ld      hl, #0x9800
        ld      de, #0x0800 / 8
        call    clear
        xor     a
        ldh     (VBK), a
        ; BG palettes 0-7: all colours black, then colour 0 is set below
        ld      a, #0x80        ; index 0, auto-increment
        ldh     (BCPS), a
        ld      c, #64
        xor     a
8$:     ldh     (BCPD), a
        dec     c
        jr      nz, 8$
9$:
        call    set_palette     ; frame 0, no buttons

        ld      a, #0x91        ; LCD on, BG tiles at $8000, map $9800, BG on
        ldh     (LCDC), a
        xor     a
        ldh     (IF), a
        inc     a               ; vblank interrupt only
        ldh     (IE), a
        ei
forever:
        halt
        nop
        jr      forever

; Vblank interrupt: once per frame.
vblank:
        push    af
        push    bc
        push    hl

        ld      hl, #FRAME_LO   ; 16-bit frame counter
        inc     (hl)
        jr      nz, 1$
        inc     hl
        inc     (hl)
1$:
        ld      a, #0x20        ; P14 low: directions
        ldh     (P1), a
        ldh     a, (P1)
        ldh     a, (P1)         ; read twice to let the lines settle
        cpl
        and     #0x0F           ; Down<<3|Up<<2|Left<<1|Right, 1 = pressed
        swap    a
        ld      b, a
        ld      a, #0x10        ; P15 low: buttons
        ldh     (P1), a
        ldh     a, (P1)
        ldh     a, (P1)
        ldh     a, (P1)
        ldh     a, (P1)
        ldh     a, (P1)
        ldh     a, (P1)
        cpl
        and     #0x0F           ; Start<<3|Select<<2|B<<1|A
        or      b
        ld      (PAD), a
        ld      a, #0x30        ; deselect both
        ldh     (P1), a

        ld      a, (PAD)        ; A held -> count it
        rrca
        jr      nc, 2$
        ld      hl, #HELD_A
        inc     (hl)
2$:
        call    set_palette

        pop     hl
        pop     bc
        pop     af
        reti

; Palette from PAD bit 0 (A) and FRAME_LO.
; DMG, BGP: A held: colour 0 = shade 0 (white), colour 1 = shade 3 (black);
;           else colour 0 = shade f, colour 1 = shade f xor 2, f = frame and 3.
; CGB, BG palette 0 (BGR555): colour 1 stays $0000 (black);
;           colour 0 = $7C00 (blue) if A held, else $001F | (frame and $1F) << 5.
set_palette:
        ld      a, (IS_CGB)
        or      a
        jr      nz, 3$
        ld      a, (PAD)
        rrca
        jr      nc, 1$
        ld      a, #0x0C        ; 0b00_00_11_00
        jr      2$
1$:     ld      a, (FRAME_LO)
        and     #3
        ld      b, a
        xor     #2
        add     a, a
        add     a, a
        or      b
2$:     ldh     (BGP), a
        ret
3$:
        ld      a, #0x80        ; BG palette 0, colour 0, auto-increment
        ldh     (BCPS), a
        ld      a, (PAD)
        rrca
        jr      nc, 4$
        xor     a               ; $7C00, low byte first
        ldh     (BCPD), a
        ld      a, #0x7C
        ldh     (BCPD), a
        ret
4$:     ld      a, (FRAME_LO)
        and     #0x1F
        ld      l, a
        ld      h, #0
        add     hl, hl
        add     hl, hl
        add     hl, hl
        add     hl, hl
        add     hl, hl          ; (frame and $1F) << 5
        ld      a, l
        or      #0x1F
        ldh     (BCPD), a
        ld      a, h
        ldh     (BCPD), a
        ret

; Fill DE * 8 bytes from HL with 0. Clobbers A, DE, HL.
clear:
        xor     a
        ld      (hl+), a
        ld      (hl+), a
        ld      (hl+), a
        ld      (hl+), a
        ld      (hl+), a
        ld      (hl+), a
        ld      (hl+), a
        ld      (hl+), a
        dec     de
        ld      a, d
        or      e
        jr      nz, clear
        ret
