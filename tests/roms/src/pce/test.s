; PC Engine test ROM for the retro test-suite (ca65 syntax, HuC6280).
;
; 8 KB HuCard, one bank, mapped at $E000 at power-on. Behaviour is documented
; in tests/roms/README.md; keep the two in sync.
;
; Memory map set up at reset: MPR0 = $FF (I/O at $0000-$1FFF), MPR1 = $F8
; (the 8 KB of RAM at $2000-$3FFF, zero page = $2000, stack = $2100).
;
; RAM map (all 8 KB cleared to 0 at reset; offsets in the RAM = zero page):
;   $2000-$2001  frame counter, 16-bit little endian, +1 in every vblank IRQ
;   $2002        pad 1 (1 = pressed): Left<<7|Down<<6|Right<<5|Up<<4|Run<<3|Select<<2|II<<1|I
;   $2003        pad 2, same layout (through the multitap's second port)
;   $2004        number of vblank IRQs in which pad 1's I was held (8-bit, wraps)

.setcpu "HuC6280"

FRAME   = $00                   ; zero page = $2000
PAD1    = $02
PAD2    = $03
HELD_I  = $04

; $0000-$00FF is I/O, not the zero page ($2000): page-0 registers need the
; absolute addressing mode, "a:" in ca65
VDC_AR  = $0000                 ; VDC register select (write) / status (read)
VDC_LO  = $0002
VDC_HI  = $0003
VCE_CR  = $0400
VCE_AL  = $0402
VCE_AH  = $0403
VCE_DL  = $0404
VCE_DH  = $0405
TIMER_CR = $0C01
JOY     = $1000
IRQ_MASK = $1402
IRQ_STATUS = $1403

; VDC registers
MAWR    = $00                   ; VRAM write address
VWR     = $02                   ; VRAM data
CR      = $05                   ; control
BXR     = $07
BYR     = $08
MWR     = $09

TILES   = $1000                 ; VRAM word address of tile $100 (tile n at n * 16)

COLOUR_I_HELD = $0007           ; GGGRRRBBB: blue, while pad 1 I is held

.segment "CODE"

reset:
    sei
    csh                         ; 7.16 MHz
    cld
    lda #$FF
    tam #$01                    ; MPR0: I/O
    lda #$F8
    tam #$02                    ; MPR1: RAM
    ldx #$FF
    txs

    stz TIMER_CR                ; timer off
    lda #$07
    sta IRQ_MASK                ; all interrupts masked for now
    stz IRQ_STATUS              ; acknowledge the timer

    stz $2000                   ; clear the 8 KB of RAM
    tii $2000, $2001, $1FFF

    ; VDC: display off, then its registers from vdc_table
    ldx #0
@vdc:
    lda vdc_table, x
    sta a:VDC_AR
    lda vdc_table + 1, x
    sta a:VDC_LO
    lda vdc_table + 2, x
    sta a:VDC_HI
    inx
    inx
    inx
    cpx #vdc_table_end - vdc_table
    bne @vdc
    stz VCE_CR                  ; 5.37 MHz dot clock: 256 pixels a line

    ; clear all 64 KB of VRAM (32 K words)
    st0 #MAWR
    st1 #$00
    st2 #$00
    st0 #VWR
    ldy #$80                    ; 128 x 256 words
@clear_vram:
    ldx #0
@clear_page:
    st1 #$00
    st2 #$00
    dex
    bne @clear_page
    dey
    bne @clear_vram

    ; tile $101 at TILES + 16: all pixels colour 1 (plane 0 set: words 0-7 = $00FF)
    st0 #MAWR
    st1 #<(TILES + 16)
    st2 #>(TILES + 16)
    st0 #VWR
    ldx #8
@tile:
    st1 #$FF
    st2 #$00
    dex
    bne @tile

    ; BAT at VRAM $0000: 32x32 entries, tile $100 + ((row xor column) and 1), palette 0
    st0 #MAWR
    st1 #$00
    st2 #$00
    st0 #VWR
    ldy #32                     ; rows
    lda #$00
@row:
    ldx #32                     ; columns
@column:
    sta a:VDC_LO
    st2 #>(TILES / 16)
    eor #$01
    dex
    bne @column
    eor #$01                    ; even row length: flip for the next row
    dey
    bne @row

    ; VCE: all 512 colours black, then colour 0 is set below
    stz VCE_AL
    stz VCE_AH
    ldy #2
@vce:
    ldx #0
@vce_page:
    stz VCE_DL
    stz VCE_DH
    dex
    bne @vce_page
    dey
    bne @vce

    jsr set_colour              ; frame 0, no buttons

    st0 #CR                     ; background on, vblank IRQ on
    st1 #$88
    st2 #$00
    lda a:VDC_AR                  ; clear a pending VDC status
    lda #$05
    sta IRQ_MASK                ; IRQ1 (VDC) only
    cli
forever:
    bra forever

; VDC IRQ (IRQ1): the vblank, once per frame.
vdc_irq:
    pha
    phx
    phy
    lda a:VDC_AR                  ; acknowledge

    inc FRAME                   ; 16-bit frame counter
    bne @counted
    inc FRAME + 1
@counted:

    ; pads: reset the multitap (CLR), then per port: SEL = 1 -> directions,
    ; SEL = 0 -> buttons, both active low in bits 0-3
    lda #$01
    sta JOY
    lda #$03
    sta JOY
    ldx #0
@pad:
    lda #$01                    ; SEL = 1, CLR = 0: directions of this port
    sta JOY
    pha                         ; let the lines settle
    pla
    nop
    nop
    lda JOY
    eor #$0F                    ; Left<<3|Down<<2|Right<<1|Up, 1 = pressed
    asl a
    asl a
    asl a
    asl a
    sta PAD1, x
    stz JOY                     ; SEL = 0: buttons
    pha
    pla
    nop
    nop
    lda JOY
    eor #$0F                    ; Run<<3|Select<<2|II<<1|I
    and #$0F
    ora PAD1, x
    sta PAD1, x
    inx
    cpx #2
    bne @pad

    lda PAD1                    ; I held -> count it
    lsr a
    bcc @no_i
    inc HELD_I
@no_i:
    jsr set_colour

    ply
    plx
    pla
    rti

; VCE colour 0 (GGGRRRBBB): COLOUR_I_HELD if pad 1 I is held,
; else red 7, green = frame and 7, blue 0.
set_colour:
    stz VCE_AL
    stz VCE_AH
    lda PAD1
    lsr a
    bcc @by_frame
    lda #<COLOUR_I_HELD
    sta VCE_DL
    lda #>COLOUR_I_HELD
    sta VCE_DH
    rts
@by_frame:
    lda FRAME                   ; low byte: G1 G0 << 6 | R << 3, high byte: G2
    and #$03
    asl a
    asl a
    asl a
    asl a
    asl a
    asl a
    ora #$38                    ; red 7
    sta VCE_DL
    lda FRAME
    and #$04
    lsr a
    lsr a
    sta VCE_DH
    rts

timer_irq:
    stz IRQ_STATUS
irq2:
nmi:
    rti

; VDC register, low byte, high byte
vdc_table:
    .byte CR,  $00, $00         ; display off, no interrupts
    .byte $06, $00, $00         ; RCR: no raster interrupt
    .byte BXR, $00, $00         ; scroll (0, 0)
    .byte BYR, $00, $00
    .byte MWR, $00, $00         ; 32x32 BAT
    .byte $0A, $02, $02         ; HSR: sync width 2, display start 2
    .byte $0B, $1F, $04         ; HDR: 32 tiles (256 px), display end 4
    .byte $0C, $02, $0F         ; VPR: sync width 2, display start 15
    .byte $0D, $EF, $00         ; VDW: 240 lines
    .byte $0E, $03, $00         ; VCR
    .byte $0F, $00, $00         ; DCR: no DMA
vdc_table_end:

.segment "VECTORS"
    .word irq2                  ; $FFF6: IRQ2 / BRK
    .word vdc_irq               ; $FFF8: IRQ1, the VDC
    .word timer_irq             ; $FFFA: timer
    .word nmi                   ; $FFFC: NMI
    .word reset                 ; $FFFE: reset
