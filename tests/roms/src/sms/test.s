; Master System / Game Gear test ROM for the retro test-suite (sdasz80
; syntax, Z80). Assembled through sms.s (GAMEGEAR = 0) or gg.s (GAMEGEAR = 1).
; Behaviour is documented in tests/roms/README.md; keep the two in sync.
;
; 32 KB, no mapper writes. The "TMR SEGA" header at $7FF0 is here with the
; checksum zero; build.py writes the checksum and the region/size byte.
;
; RAM map (all 8 KB of work RAM, $C000-$DFFF, cleared to 0 at reset):
;   $C000-$C001  frame counter, 16-bit little endian, +1 in every frame interrupt
;   $C002        port $DC, inverted (1 = pressed): P2Down<<7|P2Up<<6|P1B2<<5|P1B1<<4|P1Right<<3|P1Left<<2|P1Down<<1|P1Up
;   $C003        port $DD, inverted, low 4 bits: P2B2<<3|P2B1<<2|P2Right<<1|P2Left
;   $C004        number of frame interrupts in which P1 button 2 was held (8-bit, wraps)
;   $C005        SMS: number of pause NMIs (8-bit, wraps);
;                GG: port $00 bit 7 inverted, Start<<7

        .module test

        VDP_DATA = 0xBE
        VDP_CTRL = 0xBF
        PORT_DC  = 0xDC
        PORT_DD  = 0xDD
        GG_START = 0x00

        FRAME_LO = 0xC000
        FRAME_HI = 0xC001
        PAD_DC   = 0xC002
        PAD_DD   = 0xC003
        HELD_A   = 0xC004
        EXTRA    = 0xC005       ; SMS: pause count; GG: Start

        .area ROM (ABS)

        .org 0x0000
        di
        im      1
        jp      reset

        .org 0x0038             ; IM 1: the VDP frame interrupt
        jp      frame

        .org 0x0066             ; NMI: the SMS pause button
        push    af
        push    hl
        ld      hl, #EXTRA
.if GAMEGEAR
.else
        inc     (hl)
.endif
        pop     hl
        pop     af
        retn

        .org 0x0080
reset:
        ; clear all work RAM, $C000-$DFFF, before there is a stack
        ld      hl, #0xC000
        ld      de, #0xC001
        ld      bc, #0x1FFF
        ld      (hl), #0
        ldir
        ld      sp, #0xDFF0     ; below the mapper registers' mirror

        ; VDP registers
        ld      hl, #vdp_registers
        ld      b, #vdp_registers_end - vdp_registers
        ld      c, #VDP_CTRL
        otir
        in      a, (VDP_CTRL)   ; clear a pending interrupt

        ; clear all 16 KB of VRAM
        xor     a
        out     (VDP_CTRL), a
        ld      a, #0x40        ; VRAM write, address $0000
        out     (VDP_CTRL), a
        ld      bc, #0x4000 / 16
1$:     xor     a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        dec     bc
        ld      a, b
        or      c
        jr      nz, 1$

        ; tile 1 at $0020: all pixels colour 1 (bitplane 0 set)
        ld      a, #0x20
        out     (VDP_CTRL), a
        ld      a, #0x40
        out     (VDP_CTRL), a
        ld      b, #8
2$:     ld      a, #0xFF
        out     (VDP_DATA), a
        xor     a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        out     (VDP_DATA), a
        djnz    2$

        ; name table at $3800: 32x28 entries of 2 bytes, tile = (row xor column) and 1
        xor     a
        out     (VDP_CTRL), a
        ld      a, #0x40 | 0x38
        out     (VDP_CTRL), a
        ld      d, #28          ; rows
        xor     a
3$:     ld      e, #32          ; columns
4$:     out     (VDP_DATA), a   ; tile number low byte
        ld      c, a
        xor     a
        out     (VDP_DATA), a   ; high byte: no flags, BG palette
        ld      a, c
        xor     #1
        dec     e
        jr      nz, 4$
        xor     #1              ; even row length: flip for the next row
        dec     d
        jr      nz, 3$

        ; sprite table at $3F00: Y = $D0 ends the list, so no sprites
        xor     a
        out     (VDP_CTRL), a
        ld      a, #0x40 | 0x3F
        out     (VDP_CTRL), a
        ld      a, #0xD0
        out     (VDP_DATA), a

        ; CRAM: every colour black, then colour 0 is set below
        xor     a
        out     (VDP_CTRL), a
        ld      a, #0xC0
        out     (VDP_CTRL), a
.if GAMEGEAR
        ld      b, #64          ; 32 colours of 2 bytes
.else
        ld      b, #32          ; 32 colours of 1 byte
.endif
        xor     a
5$:     out     (VDP_DATA), a
        djnz    5$

        call    set_colour      ; frame 0, no buttons

        ld      a, #0xE0        ; display on, frame interrupt on
        out     (VDP_CTRL), a
        ld      a, #0x81
        out     (VDP_CTRL), a
        ei
forever:
        halt
        jr      forever

; Frame interrupt: once per frame, at the start of vblank.
frame:
        push    af
        push    bc
        push    hl
        in      a, (VDP_CTRL)   ; acknowledge the interrupt

        ld      hl, #FRAME_LO   ; 16-bit frame counter
        inc     (hl)
        jr      nz, 1$
        inc     hl
        inc     (hl)
1$:
        in      a, (PORT_DC)
        cpl
        ld      (PAD_DC), a
        in      a, (PORT_DD)
        cpl
        and     #0x0F
        ld      (PAD_DD), a
.if GAMEGEAR
        in      a, (GG_START)
        cpl
        and     #0x80
        ld      (EXTRA), a
.endif
        ld      a, (PAD_DC)     ; P1 button 2 held -> count it
        and     #0x20
        jr      z, 2$
        ld      hl, #HELD_A
        inc     (hl)
2$:
        call    set_colour

        pop     hl
        pop     bc
        pop     af
        ei
        reti

; BG colour 0 from P1 button 2 (PAD_DC bit 5) and FRAME_LO.
; SMS (--BBGGRR): $30 (blue) if held, else $03 | (frame and $0F) << 2.
; GG (----BBBBGGGGRRRR): $0F00 (blue) if held, else $000F | (frame and $0F) << 4.
set_colour:
        xor     a               ; CRAM address 0
        out     (VDP_CTRL), a
        ld      a, #0xC0
        out     (VDP_CTRL), a
        ld      a, (PAD_DC)
        and     #0x20
        jr      z, 1$
.if GAMEGEAR
        xor     a
        out     (VDP_DATA), a
        ld      a, #0x0F
        out     (VDP_DATA), a
.else
        ld      a, #0x30
        out     (VDP_DATA), a
.endif
        ret
1$:     ld      a, (FRAME_LO)
        and     #0x0F
.if GAMEGEAR
        rlca
        rlca
        rlca
        rlca
        or      #0x0F
        out     (VDP_DATA), a
        xor     a
        out     (VDP_DATA), a
.else
        rlca
        rlca
        or      #0x03
        out     (VDP_DATA), a
.endif
        ret

; VDP registers 0-10, as (value, $80 | register) pairs.
vdp_registers:
        .db     0x04, 0x80      ; mode 4
        .db     0x80, 0x81      ; display off, no interrupts (set on at the end)
        .db     0xFF, 0x82      ; name table at $3800
        .db     0xFF, 0x83
        .db     0xFF, 0x84
        .db     0xFF, 0x85      ; sprite table at $3F00
        .db     0xFF, 0x86      ; sprite tiles at $2000
        .db     0x00, 0x87      ; border colour: sprite palette colour 0 (black)
        .db     0x00, 0x88      ; X scroll 0
        .db     0x00, 0x89      ; Y scroll 0
        .db     0xFF, 0x8A      ; no line interrupts
vdp_registers_end:

        .org 0x7FF0             ; header: checksum and region/size by build.py
        .ascii  "TMR SEGA"
        .db     0x00, 0x00      ; reserved
        .dw     0x0000          ; checksum
        .db     0x00, 0x00, 0x00 ; product code and version
        .db     0x00            ; region (high nibble) and ROM size (low nibble)
