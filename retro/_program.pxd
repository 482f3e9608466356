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

cdef struct Program:
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
    double reward[MAX_REWARDS]       # of the last frame
    double total[MAX_REWARDS]        # the episode's, as the scenario sums it
    double step_reward[MAX_REWARDS]  # summed over the frames since program_begin
    bint done
    long frames                      # frames evaluated since program_begin


cdef bint program_frame(Program *p) noexcept nogil


cdef class FrameProgram:
    cdef Program p
    cdef ValueTable table
    cdef object _owned

    cpdef begin(self, object scenario)
    cpdef finish(self, object scenario)
