"""Write toy_chassis.xml: a 9-reaction model with known flaws, for the chassis tests.

Run from the repository root: ``.venv/bin/python tests/data/design/make_toy_chassis.py``.
"""

from __future__ import annotations

from pathlib import Path

import cobra

METABOLITES = [  # id, name, formula, charge, compartment
    ("glc__D_e", "D-Glucose", "C6H12O6", 0, "e"),
    ("glc__D_c", "D-Glucose", "C6H12O6", 0, "c"),
    ("pyr_c", "Pyruvate", "C3H3O3", -1, "c"),
    ("h_c", "H+", "H", 1, "c"),
    ("nad_c", "NAD", "C21H26N7O14P2", -1, "c"),
    ("nadh_c", "NADH", "C21H27N7O14P2", -2, "c"),
    ("pyr_e", "Pyruvate", "C3H3O3", -1, "e"),
    ("lac__D_c", "D-Lactate", "C3H5O3", -1, "c"),
    ("h_e", "H+", "H", 1, "e"),
]
REACTIONS = [  # id, name, stoichiometry, GPR
    ("GLCt", "glucose transport", {"glc__D_e": -1, "glc__D_c": 1}, "g1"),
    ("GLYC", "glycolysis, lumped",
     {"glc__D_c": -1, "nad_c": -2, "pyr_c": 2, "nadh_c": 2, "h_c": 4}, "g2 and g3"),
    # loses two hydrogens on purpose: the summary must list it as mass-imbalanced
    ("NADHOX", "NADH recycling", {"nadh_c": -1, "nad_c": 1, "h_c": -1}, "g4 or g5"),
    ("PYRt", "pyruvate export", {"pyr_c": -1, "h_c": -1, "pyr_e": 1, "h_e": 1}, "g6"),
    # lactate is used by nothing: LDH is blocked and lac__D_c a dead end
    ("LDH", "lactate dehydrogenase",
     {"pyr_c": -1, "nadh_c": -1, "h_c": -1, "lac__D_c": 1, "nad_c": 1}, "g7"),
    ("BIOMASS", "biomass", {"pyr_c": -1, "h_c": -1}, ""),
]


def build() -> cobra.Model:
    model = cobra.Model("toy_chassis", name="Toy chassis: glucose to pyruvate and biomass")
    mets = {mid: cobra.Metabolite(mid, formula=f, charge=q, name=n, compartment=c)
            for mid, n, f, q, c in METABOLITES}
    for rid, name, stoich, gpr in REACTIONS:
        rxn = cobra.Reaction(rid, name=name, lower_bound=0, upper_bound=1000)
        model.add_reactions([rxn])
        rxn.add_metabolites({mets[k]: v for k, v in stoich.items()})
        rxn.gene_reaction_rule = gpr
    model.compartments = {"c": "cytosol", "e": "extracellular"}
    for mid in ("glc__D_e", "pyr_e", "h_e"):
        model.add_boundary(mets[mid], type="exchange")
    model.reactions.EX_glc__D_e.lower_bound = -10
    model.objective = "BIOMASS"
    return model


if __name__ == "__main__":
    cobra.io.write_sbml_model(build(), str(Path(__file__).with_name("toy_chassis.xml")))
