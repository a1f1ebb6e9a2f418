"""Each mechanism of the model, written once as compiled kernels over one run ``b`` of a
batch (:mod:`sim.core.arrays`): the ledger of solutions and served pairs, the province's
recognition, local diffusion and the contractor. The step loop (:mod:`sim.core.step`) calls
them in a fixed order; a run alone is a batch of one."""
