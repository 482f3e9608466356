; Atari 2600 test ROM for the retro test-suite (dasm syntax, 6507).
;
; 4 KB, no bank switching. NTSC frame of 262 lines:
; 3 VSYNC + 37 VBLANK + 192 visible + 30 overscan.
; Assembled with -DPAL=1 (atari2600pal.a26): 312 lines, 80 of them overscan.
; Behaviour is documented in tests/roms/README.md; keep the two in sync.
;
; RAM map (zero page RAM $80-$FF and the TIA registers cleared at reset):
;   $80-$81  frame counter, 16-bit little endian, +1 once per frame in VBLANK
;   $82      SWCHA copied once per frame (P0 R,L,D,U in bits 7-4, P1 in 3-0, 0 = pressed)
;   $83      INPT4 copied once per frame (bit 7 = 0 while P0 fire is pressed)
;   $84      number of frames in which P0 fire was held (8-bit, wraps)

        processor 6502

; TIA write registers
VSYNC   equ $00
VBLANK  equ $01
WSYNC   equ $02
COLUPF  equ $08
COLUBK  equ $09
CTRLPF  equ $0A
PF0     equ $0D
PF1     equ $0E
PF2     equ $0F
; TIA read registers
INPT4   equ $0C
; RIOT
SWCHA   equ $0280
SWACNT  equ $0281
INTIM   equ $0284
TIM64T  equ $0296

FRAME_LO equ $80
FRAME_HI equ $81
JOY      equ $82
FIRE     equ $83
HELD     equ $84

        IFCONST PAL
OVERSCAN    equ 80              ; 312 lines a frame: a PAL game
        ELSE
OVERSCAN    equ 30              ; 262 lines a frame: NTSC
        ENDIF

COLOUR_PF   equ $0E             ; white playfield bars
COLOUR_FIRE equ $00             ; black background while P0 fire is held

        seg code
        org $F000

reset:
        sei
        cld
        ldx #$FF
        txs
        lda #0
        tax
clear:                          ; $00-$FF: TIA registers and all 128 bytes of RAM
        sta $00,x
        inx
        bne clear
        sta SWACNT              ; port A (joysticks) all inputs

        lda #COLOUR_PF
        sta COLUPF
        lda #%11110000          ; PF1: left 4 of its 8 pixels lit; CTRLPF = 0: repeated
        sta PF1
        lda #0
        sta PF0
        sta PF2
        sta CTRLPF

frame:
        lda #2                  ; VBLANK on and VSYNC for 3 lines
        sta VBLANK
        sta VSYNC
        sta WSYNC
        sta WSYNC
        sta WSYNC
        lda #0
        sta VSYNC

        lda #43                 ; 43 * 64 = 2752 cycles: rest of the 37 VBLANK lines
        sta TIM64T

        inc FRAME_LO            ; frame counter
        bne counted
        inc FRAME_HI
counted:
        lda SWCHA
        sta JOY
        lda INPT4
        sta FIRE
        bmi no_fire             ; bit 7 = 0: fire pressed
        inc HELD
        lda #COLOUR_FIRE
        jmp set_colour
no_fire:
        lda FRAME_LO            ; COLUBK = ((frame & $0F) << 4) | 6
        asl
        asl
        asl
        asl
        ora #$06
set_colour:
        sta COLUBK

wait_vblank:
        lda INTIM
        bne wait_vblank
        sta WSYNC
        lda #0                  ; beam on
        sta VBLANK

        ldx #192                ; visible picture
visible:
        sta WSYNC
        dex
        bne visible

        lda #2                  ; beam off
        sta VBLANK
        ldx #OVERSCAN           ; overscan
overscan:
        sta WSYNC
        dex
        bne overscan
        jmp frame

        org $FFFA
        .word reset             ; NMI (unused on the 6507)
        .word reset             ; RESET
        .word reset             ; IRQ/BRK
