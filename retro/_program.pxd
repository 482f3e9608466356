# A scenario's per-frame rewards and done in C (retro/_program.pyx), for step jobs.
from libc.stdint cimport int64_t

from retro._values cimport Entry, ValueTable

cdef enum:
    MAX_REWARDS = 2     # players with a reward (retro.data.scenario.MAX_PLAYERS)

cdef struct Term:
    # A reward term or a done test: x is a watched value or its change (slot -1: the constant 1)
    int slot
    bint delta
    int op              # -1: none (m = x)
    int64_t ref
    double reward
    double penalty

cdef struct Node:
    # A node of the done tree: its tests, then its children (nodes[first_child:first_child + n_children])
    bint all
    int first_test
    int n_tests
    int first_child
    int n_children

cdef struct Record:
    # A scenario's running state, the one copy of it: what the last frame gave and the episode so far
    double reward[MAX_REWARDS]       # each player's reward of the last frame
    double total[MAX_REWARDS]        # each player's reward summed since the restart
    bint done                        # the done condition at the last frame
    int64_t frame                    # frames evaluated since the restart

cdef struct Program:
    Record *rec                      # the scenario's running state, written every frame
    const Entry *entries
    int n_values
    int64_t *cur
    int64_t *prev
    bint have_prev
    Term *terms
    Node *nodes         # nodes[0] is the root
    int n_nodes
    int n_players       # players with a reward term
    int player[MAX_REWARDS]
    int first_term[MAX_REWARDS]
    int n_terms[MAX_REWARDS]
    double step_reward[MAX_REWARDS]  # summed over the frames since begin()
    bint done                        # the last frame's done
    long frames                      # frames evaluated since begin()


cdef bint program_frame(Program *p) noexcept nogil


cdef class ScenarioRecord:
    cdef Record r

    cpdef put(self, int player, double reward)
    cpdef end_frame(self, bint done)


cdef class FrameProgram:
    cdef Program p
    cdef ValueTable table
    cdef ScenarioRecord _record
    cdef object _owned

    cpdef begin(self)
