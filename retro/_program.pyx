"""A scenario's rewards and done, evaluated in C every frame (:class:`FrameProgram`).

``retro.data.scenario`` defines what a scenario means and evaluates it in
Python (a generated function, for every scenario, including those that call
Lua). A scenario that calls no script, over values this module can hold in
64 bits, can also run here: the same rules, term by term in the same order
with the same float arithmetic, so its rewards, totals and done are
bit-identical to the Python evaluator's (a property test compares the two
on random scenarios and RAM). This is what lets a step job play a frame
skip, stopping at the frame the game is done, without entering Python.

Semantics, as the scenario module documents them: per frame, done first
(the tree: a node's tests before its children, short-circuiting; an empty
"all" is true, an empty "any" false; a test is met when ``op(x, ref) > 0``,
or ``x > 0`` without op), then each player's reward (``r = 0.0``; per term
``m = op(x, ref)`` or ``x``; ``r += m * reward`` if ``m > 0``, ``r += m *
penalty`` if ``m < 0``), stored as the frame's reward and added to the total.
``x`` is a watched value, or its change since the frame before (0 on the
first frame after :meth:`FrameProgram.forget`).
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memcpy, memset

from retro._values cimport MASK_C, MASK_PY, FMT_D, FMT_N, Entry, ValueTable, entry_bits

__all__ = ["FrameProgram", "ScenarioRecord", "N_OPS"]

#: Ops are taken by code: code ``i`` is ``retro.data.ops.OP_NAMES[i]`` (that table is the one list of the ops,
#: and a property test holds this evaluator to the Python one on every op); -1 is NOOP.
N_OPS = 12

# Values, references and masks beyond this stay in Python (its ints do not overflow).
cdef int64_t LIMIT = (<int64_t>1) << 62
cdef int MAX_DEPTH = 64


cdef inline int64_t apply_op(int op, int64_t x, int64_t ref) noexcept nogil:
    if op == 0:
        return x == ref
    if op == 1:
        return x == -ref
    if op == 2:
        return x != ref
    if op == 3:
        return x < ref
    if op == 4:
        return x > ref
    if op == 5:
        return x <= ref
    if op == 6:
        return x >= ref
    if op == 7:
        return x != 0
    if op == 8:
        return x == 0
    if op == 9:
        return x > 0
    if op == 10:
        return x < 0
    if op == 11:
        return (x > 0) - (x < 0)
    return x


cdef inline int64_t measured(const Program *p, const Term *t) noexcept nogil:
    cdef int64_t x
    if t.slot < 0:
        x = 1
    elif t.delta:
        x = p.cur[t.slot] - p.prev[t.slot] if p.have_prev else 0
    else:
        x = p.cur[t.slot]
    return x if t.op < 0 else apply_op(t.op, x, t.ref)


cdef bint node_met(const Program *p, int i) noexcept nogil:
    cdef const Node *node = &p.nodes[i]
    cdef int k
    cdef bint met
    if node.n_tests == 0 and node.n_children == 0:
        return node.all
    for k in range(node.first_test, node.first_test + node.n_tests):
        met = measured(p, &p.terms[k]) > 0
        if met != node.all:     # any: the first met test decides; all: the first unmet one
            return met
    for k in range(node.first_child, node.first_child + node.n_children):
        met = node_met(p, k)
        if met != node.all:
            return met
    return node.all


cdef bint program_frame(Program *p) noexcept nogil:
    """One frame: read the values, then done, then each player's reward. Returns done."""
    cdef int i, k, t
    cdef bint negative
    cdef int64_t *swap
    cdef int64_t m
    cdef double r
    cdef const Term *term
    for i in range(p.n_values):
        p.cur[i] = <int64_t>entry_bits(&p.entries[i], &negative)
    p.done = node_met(p, 0) if p.n_nodes else False
    for k in range(p.n_players):
        r = 0.0
        for t in range(p.first_term[k], p.first_term[k] + p.n_terms[k]):
            term = &p.terms[t]
            m = measured(p, term)
            if m > 0:
                r += <double>m * term.reward
            elif m < 0:
                r += <double>m * term.penalty
        p.rec.reward[p.player[k]] = r
        p.rec.total[p.player[k]] += r
        p.step_reward[k] += r
    p.rec.done = p.done
    p.rec.frame += 1
    swap = p.prev
    p.prev = p.cur
    p.cur = swap
    p.have_prev = True
    p.frames += 1
    return p.done


cdef int64_t _ref(object value) except? -1:
    if not -LIMIT < value < LIMIT:
        raise ValueError(f"reference {value} does not fit")
    return <int64_t>value


cdef int _op(object code) except -2:
    if not -1 <= code < N_OPS:
        raise ValueError(f"op code {code} is not one of -1 (NOOP) .. {N_OPS - 1}")
    return code


cdef class ScenarioRecord:
    """A scenario's running state, the one copy of it: the last frame's rewards and done, the totals, the frame.

    The C evaluator (:class:`FrameProgram`) writes it every frame in the
    frame loop; the Python evaluator (scenarios that call Lua, or with custom
    variables) writes it with :meth:`put` and :meth:`end_frame`.
    ``reward`` and ``total_reward`` read as new lists, one float per player.
    """

    @property
    def frame(self):
        return self.r.frame

    @frame.setter
    def frame(self, int64_t value):
        self.r.frame = value

    @property
    def is_done(self):
        return bool(self.r.done)

    @is_done.setter
    def is_done(self, bint value):
        self.r.done = value

    @property
    def reward(self):
        return [self.r.reward[k] for k in range(MAX_REWARDS)]

    @reward.setter
    def reward(self, values):
        cdef int k
        for k in range(MAX_REWARDS):
            self.r.reward[k] = values[k]

    @property
    def total_reward(self):
        return [self.r.total[k] for k in range(MAX_REWARDS)]

    @total_reward.setter
    def total_reward(self, values):
        cdef int k
        for k in range(MAX_REWARDS):
            self.r.total[k] = values[k]

    cpdef put(self, int player, double reward):
        """Player ``player``'s reward of this frame (added to the total)."""
        if not 0 <= player < MAX_REWARDS:
            raise IndexError(f"player {player} of {<int>MAX_REWARDS}")
        self.r.reward[player] = reward
        self.r.total[player] += reward

    cpdef end_frame(self, bint done):
        """The frame's done; the frame is counted."""
        self.r.done = done
        self.r.frame += 1

    def restart(self):
        """Frame 0, no reward, not done."""
        memset(&self.r, 0, sizeof(Record))


cdef class FrameProgram:
    """A scenario compiled to C over a :class:`~retro._values.ValueTable` of its watched values.

    Args:
        table: the watched values, in the scenario's ``watched`` order.
        done: the done tree, ``(is_all, [(slot, use_delta, op, reference)], [children])``.
        players: ``[(player, [(slot, use_delta, op, reference, reward, penalty)])]`` for each
            player with a reward; slot -1 is the time reward (x = 1 every frame).
        record: the :class:`ScenarioRecord` every frame is written into (the scenario's
            running state; a new one if not given).

    ``op`` is an op code (the op's index in ``retro.data.ops.OP_NAMES``, -1 for NOOP). Raises ``ValueError``
    when a value, reference or mask could leave 64 bits, or the tree is
    deeper than 64: such scenarios stay with the Python evaluator.
    """

    def __cinit__(self):
        memset(&self.p, 0, sizeof(Program))

    def __init__(self, ValueTable table not None, done, players, ScenarioRecord record=None):
        cdef Py_ssize_t n = table._n, i
        cdef const Entry *e
        cdef list nodes = []
        cdef list tests = []
        cdef list terms = []
        cdef Program *p = &self.p
        if self.table is not None:
            raise RuntimeError("FrameProgram is already initialised")
        for i in range(n):
            e = &table._entries[i]
            if e.mask_kind == MASK_PY:
                raise ValueError(f"value {i} has a mask beyond 64 bits")
            if e.fmt != FMT_D and e.fmt != FMT_N and e.width > 7:
                raise ValueError(f"value {i} has {e.width} bytes")
            if e.mask_kind == MASK_C and not e.mask_negative and e.mask >= <uint64_t>LIMIT:
                raise ValueError(f"value {i} has a mask beyond 62 bits")
        if len(players) > MAX_REWARDS:
            raise ValueError(f"{len(players)} players with rewards, at most {<int>MAX_REWARDS}")
        # the done tree, breadth first so that each node's children are contiguous
        queue = [(done, 0)] if done is not None else []
        while queue:
            (is_all, node_tests, children), depth = queue.pop(0)
            if depth > MAX_DEPTH:
                raise ValueError("the done tree is too deep")
            nodes.append([bool(is_all), len(tests), len(node_tests), 0, len(children)])
            for slot, use_delta, op, ref in node_tests:
                tests.append((slot, use_delta, op, ref, 0.0, 0.0))
            nodes[len(nodes) - 1][3] = len(nodes) + len(queue)
            queue.extend((c, depth + 1) for c in children)
        for player, player_terms in players:
            terms.append(list(player_terms))
        all_terms = tests + [t for ts in terms for t in ts]
        p.n_values = <int>n
        p.n_nodes = <int>len(nodes)
        p.cur = <int64_t *>PyMem_Malloc(max(n, 1) * sizeof(int64_t))
        p.prev = <int64_t *>PyMem_Malloc(max(n, 1) * sizeof(int64_t))
        p.terms = <Term *>PyMem_Malloc(max(len(all_terms), 1) * sizeof(Term))
        p.nodes = <Node *>PyMem_Malloc(max(len(nodes), 1) * sizeof(Node))
        if p.cur == NULL or p.prev == NULL or p.terms == NULL or p.nodes == NULL:
            raise MemoryError()
        for i, (slot, use_delta, op, ref, reward, penalty) in enumerate(all_terms):
            if not -1 <= slot < n:
                raise ValueError(f"slot {slot} of a table of {n}")
            p.terms[i].slot = slot
            p.terms[i].delta = bool(use_delta)
            p.terms[i].op = _op(op)
            p.terms[i].ref = _ref(ref)
            p.terms[i].reward = reward
            p.terms[i].penalty = penalty
        for i, (is_all, first_test, n_tests, first_child, n_children) in enumerate(nodes):
            p.nodes[i].all = is_all
            p.nodes[i].first_test = first_test
            p.nodes[i].n_tests = n_tests
            p.nodes[i].first_child = first_child
            p.nodes[i].n_children = n_children
        first = len(tests)
        for i, (player, _) in enumerate(players):
            p.player[i] = player
            p.first_term[i] = first
            p.n_terms[i] = len(terms[i])
            first += len(terms[i])
        p.n_players = <int>len(players)
        p.entries = table._entries
        self.table = table    # keeps the entries and the memory they point into alive
        self._record = record if record is not None else ScenarioRecord()
        p.rec = &self._record.r

    def __dealloc__(self):
        PyMem_Free(self.p.cur)
        PyMem_Free(self.p.prev)
        PyMem_Free(self.p.terms)
        PyMem_Free(self.p.nodes)

    # -- the previous frame's values (for deltas) ----------------------------------------

    def forget(self):
        """The next frame has no frame before it: its deltas are 0."""
        self.p.have_prev = False

    @property
    def prev(self):
        """The previous frame's values (a list), or None."""
        if not self.p.have_prev:
            return None
        return [self.p.prev[i] for i in range(self.p.n_values)]

    @prev.setter
    def prev(self, values):
        cdef Py_ssize_t i
        if values is None:
            self.p.have_prev = False
            return
        if len(values) != self.p.n_values:
            raise ValueError(f"{len(values)} values for a program of {self.p.n_values}")
        for i in range(self.p.n_values):
            self.p.prev[i] = _ref(values[i])
        self.p.have_prev = True

    # -- running ---------------------------------------------------------------------------

    cpdef begin(self):
        """Before a step's frames: its rewards start at 0."""
        cdef int k
        for k in range(self.p.n_players):
            self.p.step_reward[k] = 0.0
        self.p.frames = 0
        self.p.done = False

    def update(self):
        """One frame, evaluated over the values as they are now, into the record; returns done."""
        self.begin()
        program_frame(&self.p)
        return self.p.done

    @property
    def record(self):
        """The :class:`ScenarioRecord` this program writes."""
        return self._record

    def step_reward(self, int player=0):
        """Player ``player``'s reward summed since the frames began."""
        cdef int k
        for k in range(self.p.n_players):
            if self.p.player[k] == player:
                return self.p.step_reward[k]
        return 0.0

    def step_rewards(self, int players):
        """Each of the first ``players`` players' rewards summed since the frames began."""
        out = [0.0] * players
        cdef int k
        for k in range(self.p.n_players):
            if self.p.player[k] < players:
                out[self.p.player[k]] = self.p.step_reward[k]
        return out

    @property
    def frames(self):
        """Frames evaluated by the last run (a step job's frames, or 1 after :meth:`update`)."""
        return self.p.frames

    @property
    def done(self):
        return bool(self.p.done)
