// The one overload set for std::visit: `std::visit(Overloaded{[](const A&) {...}, [](const B&)
// {...}}, variant)` handles each alternative of a variant in its own lambda, and a missing one
// is a compile error (unless a generic lambda takes the rest).
#pragma once

namespace spark_slurm {

template <typename... Handlers>
struct Overloaded : Handlers... {
    using Handlers::operator()...;
};
template <typename... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

}  // namespace spark_slurm
