"""Excitable network attractors: the states a recurrent network can hold, the input pulses that
move it between them, and the task's automaton they should form (A. Ceni, P. Ashwin, L. Livi,
"Interpreting recurrent neural networks behaviour via excitable network attractors", Cognitive
Computation 12:330–356, 2020, arXiv 1807.10478).

A trained network's behaviour is read from its map x ↦ F(x, u), one step of its recurrent layer:
its stable fixed points under no input are the states it can hold, and an *excitable connection*
i → j exists when a pulse on one input channel kicks the state from stable point i into the basin
of stable point j; the smallest such pulse is the connection's *threshold*. Stable points and
connections form the *excitable network*, compared with the automaton a task asks for. The source's
extraction method is reconstructed here (its settings are not in the parts of the text we could
read): the steps and their choices are stated in each module.

The package, from the ground up:

* ``maps``: F(x, u) and its closed-form Jacobians for RNN, GRU and LSTM (x = h, or [h, c]), runs
  of the map, the states a network visits, seeds for the search;
* ``points``: fixed and slow points (batched damped Newton), stability, the saddle between two
  attractors, folds and the bifurcation diagram under a held input;
* ``connections``: per-connection thresholds, the landing map, the excitable network, transition
  probabilities under input noise;
* ``automata``: the flip-flop's cube and the memory task's tree, labels, the comparison, held
  states as slow points;
* ``behaviour``: transitions made on the task's own streams, against the probed network, and where
  the task's errors fall;
* ``study``: the whole analysis in one call (``excitable_network``), the same during training
  (``during_training``), and the frames of the chapter's figures.

Everything runs on all replicates of an ``irn.models.Stacked`` at once; only one-layer networks are
analysed. Every name below is importable from ``irn.attractors``.
"""

from irn.attractors.maps import (
    SETTLED, SETTLE_EVERY, StepMap, iterate, sample_states, speed, state_names, state_size,
    step_map, trajectory_states)
from irn.attractors.points import (
    CONVERGED, EIG_TOL, FOLD_COLUMNS, FRAME_COLUMNS, KINDS, MIN_TOL, NEIGHBOURS, NUDGE,
    SADDLE_COLUMNS, SETTLE_MIN, diagram, fixed_points, folds, saddles)
from irn.attractors.connections import (
    EDGE_COLUMNS, ELSEWHERE, LANDING_COLUMNS, NOISE_COLUMNS, STAYED, Threshold, landing_map,
    network, threshold, transition_probabilities)
from irn.attractors.automata import (
    Automaton, Comparison, HELD_COLUMNS, ROOT, STATUSES, compare, flipflop_automaton, flipflop_name,
    held_states, label_points, memory_automaton, state_level)
from irn.attractors.behaviour import (
    ERROR_COLUMNS, EVENT_COLUMNS, GRAPH_COLUMNS, GRAPH_KINDS, TEST_COLUMNS, error_events,
    errors_on_flawed, transitions, used_graph)
from irn.attractors.study import (
    Behaviour, ExcitableNetwork, LANDING_KINDS, PROBE_SETTLE, StateMap, TrainingSnapshots,
    behaviour, during_training, excitable_network, fold_thresholds, landing_frame, movement,
    noise_thresholds, planted_flipflop, state_map)

__all__ = [
    "Automaton", "Behaviour", "CONVERGED", "Comparison", "EDGE_COLUMNS", "EIG_TOL", "ELSEWHERE",
    "ERROR_COLUMNS", "EVENT_COLUMNS", "ExcitableNetwork", "FOLD_COLUMNS", "FRAME_COLUMNS",
    "GRAPH_COLUMNS", "GRAPH_KINDS", "HELD_COLUMNS", "KINDS", "LANDING_COLUMNS", "LANDING_KINDS",
    "MIN_TOL", "NEIGHBOURS", "NOISE_COLUMNS", "NUDGE", "PROBE_SETTLE", "ROOT", "SADDLE_COLUMNS",
    "SETTLED", "SETTLE_EVERY", "SETTLE_MIN", "STATUSES", "STAYED", "StateMap", "StepMap",
    "TEST_COLUMNS", "Threshold", "TrainingSnapshots", "behaviour", "compare", "diagram",
    "during_training", "error_events", "errors_on_flawed", "excitable_network", "fixed_points",
    "flipflop_automaton", "flipflop_name", "fold_thresholds", "folds", "held_states", "iterate",
    "label_points", "landing_frame", "landing_map", "memory_automaton", "movement", "network",
    "noise_thresholds", "planted_flipflop", "saddles", "sample_states", "speed", "state_level",
    "state_map", "state_names", "state_size", "step_map", "threshold", "trajectory_states",
    "transition_probabilities", "transitions", "used_graph"]
