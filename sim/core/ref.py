"""Named tuples passed to compiled kernels by reference.

Numba passes a named tuple to a compiled function by value: each of its arrays becomes
about eleven machine words of arguments, so a kernel that takes the batch's three tuples
(:mod:`sim.core.arrays`, about 127 arrays) has well over a thousand parameters. That makes
every call expensive (the arguments are copied on each call) and every kernel slow to
compile (LLVM works through those parameters in each function), which is why the step's
small mechanisms had to be inlined (issue 18).

:func:`ref` stores a tuple once in the caller's stack frame and hands out a :class:`Ref`,
a single pointer to it; ``r.field`` on a :class:`Ref` reads the field from there, so a
kernel's code is the same whether it receives the tuple or a reference to it. A reference
is valid while the function that made it runs (the entry points :func:`sim.core.step.advance`
and its kin make them and call every step kernel inside their own frame); it is never
returned or stored. It holds no reference count: the tuple's arrays stay owned by the
caller, as they are for the step kernels (:mod:`sim.core.jit`).
"""

from __future__ import annotations

from numba.core import cgutils, types
from numba.core.datamodel import models, register_default
from numba.core.imputils import impl_ret_borrowed, lower_getattr_generic
from numba.core.typing.templates import AttributeTemplate, infer_getattr
from numba.extending import intrinsic


class Ref(types.Type):
    """Numba type of a reference to a named tuple of type ``tup``."""

    def __init__(self, tup: types.BaseNamedTuple) -> None:
        self.tup = tup
        super().__init__(name=f"Ref[{tup.instance_class.__name__}]({tup})")

    @property
    def key(self) -> types.BaseNamedTuple:
        return self.tup


@register_default(Ref)
class _RefModel(models.PrimitiveModel):
    """A pointer to the tuple's value in the caller's frame."""

    def __init__(self, dmm, fe_type: Ref) -> None:
        be_type = dmm.lookup(fe_type.tup).get_value_type().as_pointer()
        super().__init__(dmm, fe_type, be_type)


@infer_getattr
class _RefAttributes(AttributeTemplate):
    key = Ref

    def generic_resolve(self, ty: Ref, attr: str) -> types.Type | None:
        fields = ty.tup.fields
        return ty.tup.types[fields.index(attr)] if attr in fields else None


@lower_getattr_generic(Ref)
def _ref_getattr(context, builder, typ: Ref, value, attr: str):
    index = typ.tup.fields.index(attr)
    # A plain load: marking it ``!invariant.load`` would promise LLVM that the memory never
    # held another value, which is false before the entry point stores the tuple (with the
    # mark the loop measured 8-19% slower than with the tuples, without it 22-28%, in two
    # runs of benchmarks/first_run.py; a direct comparison was within noise).
    field = builder.load(cgutils.gep_inbounds(builder, value, 0, index))
    return impl_ret_borrowed(context, builder, typ.tup.types[index], field)


@intrinsic
def ref(typingctx, tup):
    """A :class:`Ref` to ``tup``, valid while the calling function runs."""
    if not isinstance(tup, types.BaseNamedTuple):
        return None

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once_value(builder, args[0])

    return Ref(tup)(tup), codegen
