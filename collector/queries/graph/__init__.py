"""Lineage graphs and the walks over them: ``walk`` (the semantics, nodes, the ``Graph``
protocol), one module per graph flavour, ``propagate`` and the shared ``lookups``."""
