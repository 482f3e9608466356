; Master System test ROM: see test.s.
        GAMEGEAR = 0
        .include "test.s"
