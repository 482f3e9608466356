"""Reduce a game's action space to a few useful combos with a custom ``ActionWrapper``.

``python3 -m retro.examples.discretizer`` prints Airstriker's ``Actions.DISCRETE``
space (126 actions: every combination of the combo groups) and the 7 actions
of ``AirstrikerDiscretizer``, then plays 100 random steps with them.
"""

from __future__ import annotations

from typing import Sequence

import gymnasium
import numpy as np

import retro


class Discretizer(gymnasium.ActionWrapper):
    """Wrap a ``MultiBinary`` retro env so that it takes ``Discrete(len(combos))`` actions.

    ``combos`` lists, per discrete action, the button names it presses.
    """

    def __init__(self, env: gymnasium.Env, combos: Sequence[Sequence[str]]) -> None:
        super().__init__(env)
        assert isinstance(env.action_space, gymnasium.spaces.MultiBinary)
        buttons = env.unwrapped.buttons  # type: ignore[attr-defined]
        self._decode_discrete_action = []
        for combo in combos:
            arr = np.zeros(env.action_space.n, dtype=np.int8)
            for button in combo:
                arr[buttons.index(button)] = 1
            self._decode_discrete_action.append(arr)
        self.action_space = gymnasium.spaces.Discrete(len(self._decode_discrete_action))

    def action(self, act: int) -> np.ndarray:
        return self._decode_discrete_action[act].copy()


class AirstrikerDiscretizer(Discretizer):
    """Airstriker's useful moves: stay, fly left/right/up/down, and fire while flying left/right."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env, combos=[[], ["LEFT"], ["RIGHT"], ["UP"], ["DOWN"], ["LEFT", "B"], ["RIGHT", "B"]])


class SonicDiscretizer(Discretizer):
    """Sonic's useful moves (Gym Retro's example): left, right, left/right with down, down, down+B, B."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env, combos=[["LEFT"], ["RIGHT"], ["LEFT", "DOWN"], ["RIGHT", "DOWN"], ["DOWN"],
                                      ["DOWN", "B"], ["B"]])


def main() -> None:
    env = retro.make(game="Airstriker-Genesis", use_restricted_actions=retro.Actions.DISCRETE)
    print("retro.Actions.DISCRETE action_space", env.action_space)
    env.close()

    wrapped = AirstrikerDiscretizer(retro.make(game="Airstriker-Genesis"))
    print("AirstrikerDiscretizer action_space", wrapped.action_space)
    wrapped.reset()
    total_reward = 0.0
    for _ in range(100):
        step = wrapped.step(wrapped.action_space.sample())  # (obs, reward, done, info)
        total_reward += float(step[1])
    print(f"played 100 steps of random AirstrikerDiscretizer actions, total reward {total_reward:g}")
    wrapped.close()

if __name__ == "__main__":
    main()
