// Memory for large tables and tensors: 2 MiB pages where the kernel allows it. Touching fresh 4 KiB
// pages costs one page fault each (about 10 us on a virtual machine such as our CI's), and random
// lookups in a table of many megabytes miss the TLB on nearly every access; huge pages cut both.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace optipfair {

// Like std::malloc, 64-byte aligned; blocks of 4 MiB or more are 2 MiB-aligned and advised as huge
// pages (advice only). nullptr when out of memory. Release with std::free.
void* large_alloc(size_t bytes);

// A std::allocator for containers that may grow large (tokenizer tables).
template <class T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) {}
  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    void* p = large_alloc(n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <class U>
  bool operator==(const LargeAllocator<U>&) const { return true; }
};

}  // namespace optipfair
