; NES test ROM for the retro test-suite (ca65 syntax, plain 6502).
;
; iNES, mapper 0 (NROM), 1 x 16 KB PRG-ROM, 1 x 8 KB CHR-ROM.
; Behaviour is documented in tests/roms/README.md; keep the two in sync.
;
; RAM map (internal 2 KB RAM, cleared to 0 at reset):
;   $0000-$0001  frame counter, 16-bit little endian, +1 in every NMI
;   $0002        pad 1 state  (A<<7|B<<6|Select<<5|Start<<4|Up<<3|Down<<2|Left<<1|Right)
;   $0003        pad 2 state  (same layout)
;   $0004        number of NMIs in which pad 1 A was held (8-bit, wraps)

.setcpu "6502"

FRAME_LO = $0000
FRAME_HI = $0001
PAD1     = $0002
PAD2     = $0003
HELD_A   = $0004

PPUCTRL   = $2000
PPUMASK   = $2001
PPUSTATUS = $2002
PPUSCROLL = $2005
PPUADDR   = $2006
PPUDATA   = $2007
DMC_FREQ  = $4010
JOY1      = $4016
JOY2      = $4017              ; read: pad 2; write: APU frame counter

COLOUR_TILE   = $0F            ; black: the checkerboard squares
COLOUR_A_HELD = $16            ; red: backdrop while pad 1 A is held
COLOUR_BASE   = $21            ; backdrop = COLOUR_BASE + (frame & 7) otherwise

.segment "HEADER"
    .byte "NES", $1A
    .byte 1                    ; PRG-ROM size in 16 KB units
    .byte 1                    ; CHR-ROM size in 8 KB units
    .byte $00                  ; flags 6: mapper 0 low nibble, horizontal mirroring
    .byte $00                  ; flags 7: mapper 0 high nibble, iNES 1.0
    .byte 0, 0, 0, 0, 0, 0, 0, 0

.segment "CODE"

reset:
    sei
    cld
    ldx #$40
    stx JOY2                   ; APU frame IRQ off
    ldx #$FF
    txs
    inx                        ; X = 0
    stx PPUCTRL                ; NMI off
    stx PPUMASK                ; rendering off
    stx DMC_FREQ               ; DMC IRQ off
    bit PPUSTATUS              ; clear the vblank flag

@vblank1:                      ; PPU warm-up, first vblank
    bit PPUSTATUS
    bpl @vblank1

    lda #$00                   ; clear all 2 KB of internal RAM
@clear:
    sta $0000,x
    sta $0100,x
    sta $0200,x
    sta $0300,x
    sta $0400,x
    sta $0500,x
    sta $0600,x
    sta $0700,x
    inx
    bne @clear

@vblank2:                      ; second vblank: PPU is ready
    bit PPUSTATUS
    bpl @vblank2

    ; Palette: all 32 entries = black, then the backdrop is set below.
    lda #$3F
    sta PPUADDR
    lda #$00
    sta PPUADDR
    lda #COLOUR_TILE
    ldx #32
@palette:
    sta PPUDATA
    dex
    bne @palette

    ; Nametable 0 ($2000): 32x30 tiles, tile = (row xor column) and 1,
    ; i.e. a checkerboard of 8x8 squares, tile 0 (backdrop) in the top-left.
    lda #$20
    sta PPUADDR
    lda #$00
    sta PPUADDR
    ldy #30                    ; rows
@row:
    ldx #32                    ; columns
@column:
    sta PPUDATA
    eor #$01
    dex
    bne @column
    eor #$01                   ; even row length: flip for the next row
    dey
    bne @row
    lda #$00                   ; attribute table: background palette 0 everywhere
    ldx #64
@attributes:
    sta PPUDATA
    dex
    bne @attributes

    jsr set_backdrop           ; frame 0, no buttons: COLOUR_BASE

@vblank3:                      ; switch on at the start of a vblank
    bit PPUSTATUS
    bpl @vblank3
    jsr reset_scroll
    lda #%00001010             ; background on, also in the leftmost 8 pixels
    sta PPUMASK

forever:
    jmp forever

; NMI: once per frame, at the start of vblank.
nmi:
    pha
    txa
    pha
    tya
    pha

    inc FRAME_LO               ; 16-bit frame counter
    bne @counted
    inc FRAME_HI
@counted:

    lda #$01                   ; latch both pads
    sta JOY1
    lda #$00
    sta JOY1
    ldx #8                     ; 8 bits: A, B, Select, Start, Up, Down, Left, Right
@read:
    lda JOY1
    lsr a                      ; bit 0 -> carry
    rol PAD1                   ; first bit read ends in bit 7
    lda JOY2
    lsr a
    rol PAD2
    dex
    bne @read

    lda PAD1                   ; A held -> count it
    bpl @no_a
    inc HELD_A
@no_a:

    jsr set_backdrop
    jsr reset_scroll

    pla
    tay
    pla
    tax
    pla
irq:
    rti

; Backdrop colour (palette $3F00): COLOUR_A_HELD if pad 1 A is held,
; else COLOUR_BASE + (FRAME_LO and 7).
set_backdrop:
    bit PPUSTATUS              ; reset the $2005/$2006 write latch
    lda #$3F
    sta PPUADDR
    lda #$00
    sta PPUADDR
    lda PAD1
    bpl @by_frame
    lda #COLOUR_A_HELD
    bne @write
@by_frame:
    lda FRAME_LO
    and #$07
    clc
    adc #COLOUR_BASE
@write:
    sta PPUDATA
    rts

; Scroll (0, 0) in nametable 0, NMI on, background patterns at $0000.
reset_scroll:
    lda #$00
    sta PPUSCROLL
    sta PPUSCROLL
    lda #%10000000
    sta PPUCTRL
    rts

.segment "VECTORS"
    .word nmi
    .word reset
    .word irq

.segment "CHARS"
    ; tile 0: all pixels colour 0 (backdrop)
    .res 16, $00
    ; tile 1: all pixels colour 1 (plane 0 set, plane 1 clear)
    .res 8, $FF
    .res 8, $00
    ; rest of the 8 KB pattern tables is filled with $00 by the linker
