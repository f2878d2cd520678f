"""irn: information relays in recurrent networks.

A small library behind the irn book, which reproduces Hintze, Najam & Schossau,
"Identifying Information-Transfer Nodes in a Recurrent Neural Network Reveals Dynamic
Representations" (arXiv 2510.01271): tasks, stacked recurrent models, training to criterion,
a zoo of trained replicates, the information core and the relay method.
"""

__version__ = "0.1.0"
