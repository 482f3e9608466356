; Game Gear test ROM: see test.s.
        GAMEGEAR = 1
        .include "test.s"
