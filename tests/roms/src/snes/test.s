; SNES test ROM for the retro test-suite (ca65 syntax, 65816).
;
; 128 KB LoROM (code in bank $00 only), no copier header. Behaviour is documented in
; tests/roms/README.md; keep the two in sync.
;
; RAM map (WRAM, all 128 KB cleared to 0 at reset; bank $00 $0000-$1FFF
; mirrors $7E:0000-$7E:1FFF, and the code uses D = $0000, DB = $00):
;   $7E0000-$7E0001  frame counter, 16-bit little endian, +1 in every NMI
;   $7E0002-$7E0003  JOY1L/JOY1H ($4218/$4219) copied in every NMI
;   $7E0004-$7E0005  JOY2L/JOY2H ($421A/$421B) copied in every NMI
;   $7E0006          number of NMIs in which pad 1 A (JOY1L bit 7) was held (8-bit, wraps)

.setcpu "65816"

FRAME   = $00                   ; direct page (D = 0) = $7E:0000
JOY1    = $02
JOY2    = $04
HELD_A  = $06

INIDISP = $2100
BGMODE  = $2105
BG1SC   = $2107
BG12NBA = $210B
BG1VOFS = $210E
VMAIN   = $2115
VMADDL  = $2116
VMDATAL = $2118
VMDATAH = $2119
CGADD   = $2121
CGDATA  = $2122
TM      = $212C
WMADDL  = $2181
WMADDM  = $2182
WMADDH  = $2183
NMITIMEN = $4200
WRIO    = $4201
MDMAEN  = $420B
RDNMI   = $4210
HVBJOY  = $4212
STDCNTRL1L = $4218
STDCNTRL2L = $421A
DMAP0   = $4300
BBAD0   = $4301
A1T0L   = $4302
A1B0    = $4304
DAS0L   = $4305

COLOUR_A_HELD = $7C00           ; BGR555 pure blue: backdrop while pad 1 A is held

.segment "CODE"

reset:
    sei
    clc
    xce                         ; native mode
    rep #$38                    ; 16-bit A, X, Y; binary mode
    .a16
    .i16
    ldx #$1FFF
    txs
    lda #$0000
    tcd                         ; D = $0000
    sep #$20
    .a8
    pha
    plb                         ; DB = $00

    lda #$8F                    ; forced blank
    sta INIDISP
    stz NMITIMEN                ; no NMI, no IRQ, no auto-joypad yet

    ; PPU registers $2101-$2133 := 0 (written twice for the write-twice ones)
    ldx #$0001
@ppu_regs:
    stz $2100,x
    stz $2100,x
    inx
    cpx #$0034
    bne @ppu_regs

    ; CPU registers $4202-$420D := 0 (no HDMA, slow ROM), WRIO := $FF
    lda #$FF
    sta WRIO
    ldx #$0002
@cpu_regs:
    stz $4200,x
    inx
    cpx #$000E
    bne @cpu_regs

    ; All 128 KB WRAM := 0, DMA channel 0 from a fixed zero byte to WMDATA.
    stz WMADDL
    stz WMADDM
    stz WMADDH
    lda #$08                    ; A->B, fixed source, one register
    sta DMAP0
    lda #$80                    ; WMDATA ($2180)
    sta BBAD0
    ldx #.loword(zero_byte)
    stx A1T0L
    lda #.bankbyte(zero_byte)
    sta A1B0
    ldx #$0000                  ; 0 = 65536 bytes
    stx DAS0L
    lda #$01
    sta MDMAEN                  ; first 64 KB
    stx DAS0L
    sta MDMAEN                  ; second 64 KB

    ; All 64 KB VRAM := 0
    lda #$80                    ; increment after the high byte
    sta VMAIN
    stx VMADDL                  ; X = 0
    lda #$09                    ; A->B, fixed source, two registers (VMDATAL/H)
    sta DMAP0
    lda #$18
    sta BBAD0
    ldx #.loword(zero_byte)
    stx A1T0L
    ldx #$0000
    stx DAS0L
    lda #$01
    sta MDMAEN

    ; All 512 bytes of CGRAM := 0 (every colour black)
    stz CGADD
    lda #$08
    sta DMAP0
    lda #$22                    ; CGDATA
    sta BBAD0
    ldx #.loword(zero_byte)
    stx A1T0L
    ldx #$0200
    stx DAS0L
    lda #$01
    sta MDMAEN

    ; BG1 tile 1 (2 bpp, character base word $1000): every pixel colour 1.
    ldx #$1008
    stx VMADDL
    ldy #$0008
@tile:
    lda #$FF                    ; bit plane 0
    sta VMDATAL
    stz VMDATAH                 ; bit plane 1
    dey
    bne @tile

    ; BG1 tilemap at word $0000, 32x32 entries: tile = (row xor column) and 1,
    ; palette 0, no flip, priority 0: a checkerboard of 8x8 squares.
    ldx #$0000
    stx VMADDL
    lda #$00
    ldy #32                     ; rows
@row:
    ldx #32                     ; columns
@column:
    sta VMDATAL
    stz VMDATAH
    eor #$01
    dex
    bne @column
    eor #$01                    ; even row length: flip for the next row
    dey
    bne @row

    stz BGMODE                  ; mode 0, 8x8 tiles
    stz BG1SC                   ; tilemap at $0000, 32x32
    lda #$01
    sta BG12NBA                 ; BG1 characters at word $1000
    lda #$FF                    ; BG1 vertical scroll = $3FF (-1) so that the first
    sta BG1VOFS                 ; visible line shows tilemap line 0
    lda #$03
    sta BG1VOFS
    lda #$01
    sta TM                      ; main screen: BG1 only
    ; CGRAM colour 1 (the squares) stays $0000 = black.

    jsr set_backdrop            ; frame 0, no buttons

@wait_vblank:
    lda HVBJOY
    bpl @wait_vblank
    lda RDNMI                   ; clear a pending NMI flag
    lda #$0F                    ; screen on, full brightness
    sta INIDISP
    lda #$81                    ; NMI on, auto-joypad read on
    sta NMITIMEN

forever:
    bra forever

; NMI: once per frame, at the start of vblank.
nmi:
    rep #$30
    .a16
    .i16
    pha
    phx
    phy
    phb
    phd
    lda #$0000
    tcd
    sep #$20
    .a8
    pha
    plb                         ; DB = $00
    lda RDNMI                   ; acknowledge

    rep #$20
    .a16
    inc FRAME                   ; 16-bit frame counter
    sep #$20
    .a8

@wait_joypad:                   ; auto-joypad read starts shortly after the NMI
    lda HVBJOY
    and #$01
    bne @wait_joypad
    ldx STDCNTRL1L              ; 16-bit: JOY1L, JOY1H
    stx JOY1
    ldx STDCNTRL2L              ; 16-bit: JOY2L, JOY2H
    stx JOY2

    lda JOY1                    ; JOY1L bit 7 = A
    bpl @no_a
    inc HELD_A
@no_a:

    jsr set_backdrop

    rep #$30
    .a16
    .i16
    pld
    plb
    ply
    plx
    pla
    rti

    .a8
    .i16

; Backdrop (CGRAM colour 0), BGR555: COLOUR_A_HELD if pad 1 A is held,
; else red 31, green = FRAME and 31, blue 0, i.e. $001F | ((FRAME and $1F) << 5).
set_backdrop:
    stz CGADD
    lda JOY1
    bpl @by_frame
    lda #<COLOUR_A_HELD
    sta CGDATA
    lda #>COLOUR_A_HELD
    sta CGDATA
    rts
@by_frame:
    rep #$20
    .a16
    lda FRAME
    and #$001F
    asl a
    asl a
    asl a
    asl a
    asl a
    ora #$001F
    sep #$20
    .a8
    sta CGDATA                  ; low byte
    xba
    sta CGDATA                  ; high byte
    rts

unused_vector:
    rti

zero_byte:
    .byte $00

.segment "HEADER"
    ;      123456789012345678901
    .byte "RETRO TEST ROM       "   ; $FFC0: title, 21 bytes, space padded
    .byte $20                       ; $FFD5: map mode: LoROM, slow ROM
    .byte $00                       ; $FFD6: cartridge type: ROM only
    .byte $07                       ; $FFD7: ROM size: 1 KB << 7 = 128 KB
    .byte $00                       ; $FFD8: no SRAM
    .byte $01                       ; $FFD9: region: North America (NTSC)
    .byte $00                       ; $FFDA: developer id
    .byte $00                       ; $FFDB: version
    .word $FFFF                     ; $FFDC: checksum complement (build.py)
    .word $0000                     ; $FFDE: checksum (build.py)

.segment "VECTORS"
    ; native mode
    .word 0, 0                      ; $FFE0 unused
    .word unused_vector             ; $FFE4 COP
    .word unused_vector             ; $FFE6 BRK
    .word unused_vector             ; $FFE8 ABORT
    .word nmi                       ; $FFEA NMI
    .word 0                         ; $FFEC unused
    .word unused_vector             ; $FFEE IRQ
    ; emulation mode
    .word 0, 0                      ; $FFF0 unused
    .word unused_vector             ; $FFF4 COP
    .word 0                         ; $FFF6 unused
    .word unused_vector             ; $FFF8 ABORT
    .word unused_vector             ; $FFFA NMI
    .word reset                     ; $FFFC RESET
    .word unused_vector             ; $FFFE IRQ/BRK
