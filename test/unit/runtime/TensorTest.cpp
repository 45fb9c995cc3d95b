//===- TensorTest.cpp - Tensors, views and copies --------------------------===//
#include "kiln/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace kiln;

namespace {

Tensor iota(const Shape &shape, DType dtype = DType::F32) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  auto t = Tensor::arange(n, dtype);
  EXPECT_TRUE(t.ok());
  return *t->reshape(shape);
}

TEST(Tensor, FactoriesAndAccessors) {
  auto t = Tensor::full({2, 3}, 1.5, DType::F32);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->numel(), 6);
  EXPECT_EQ(t->rank(), 2);
  EXPECT_EQ(t->dim(-1), 3);
  EXPECT_EQ(t->strides(), (Strides{3, 1}));
  EXPECT_TRUE(t->isContiguous());
  EXPECT_EQ(t->device().name(), "cpu");
  EXPECT_EQ(*t->at({1, 2}), 1.5);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->rawData()) % 64, 0u);
  EXPECT_NE(t->data<float>(), nullptr);
  EXPECT_EQ(t->data<double>(), nullptr); // Wrong type: no pointer.
  auto s = Tensor::scalar(7, DType::I32);
  EXPECT_EQ(s->rank(), 0);
  EXPECT_EQ(*s->item(), 7.0);
  auto z = Tensor::zeros({0, 5}, DType::F64);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->numel(), 0);
  EXPECT_TRUE(z->toDoubles().empty());
  auto v = Tensor::fromVector<int64_t>({1, 2, 3}, {3});
  EXPECT_EQ(v->toDoubles(), (std::vector<double>{1, 2, 3}));
  auto b = Tensor::fromVector<bool>({true, false}, {2});
  EXPECT_EQ(b->dtype(), DType::Bool);
}

TEST(Tensor, BadShapesAreErrors) {
  EXPECT_EQ(Tensor::empty({-1}, DType::F32).status().code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(Tensor::empty(Shape(17, 1), DType::F32).status().code(),
            StatusCode::InvalidArgument);
  // Overflowing element counts are refused before any allocation.
  auto huge = Tensor::empty({1 << 30, 1 << 30, 1 << 30}, DType::F32);
  EXPECT_EQ(huge.status().code(), StatusCode::OutOfMemory);
  auto tooBig = Tensor::empty({int64_t(1) << 50}, DType::F32);
  EXPECT_EQ(tooBig.status().code(), StatusCode::OutOfMemory);
  // No elements, but strides past int64 (found by the safetensors tests).
  auto strided = Tensor::empty({0, int64_t(1) << 62, 4}, DType::F32);
  EXPECT_EQ(strided.status().code(), StatusCode::OutOfMemory);
  EXPECT_EQ(Tensor::fromDoubles(std::vector<double>{1, 2}, {3}, DType::F32)
                .status()
                .code(),
            StatusCode::InvalidArgument);
  Tensor undefined;
  EXPECT_EQ(undefined.reshape({1}).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(undefined.contiguous().status().code(), StatusCode::InvalidArgument);
}

TEST(Tensor, ReshapeIsAViewWhenPossible) {
  Tensor t = iota({2, 3, 4});
  auto r = t.reshape({6, -1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->shape(), (Shape{6, 4}));
  EXPECT_TRUE(r->sharesStorageWith(t));
  EXPECT_EQ(r->reshape({5, 5}).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(r->reshape({-1, -1}).status().code(), StatusCode::InvalidArgument);
  // A transposed tensor cannot be flattened without a copy.
  Tensor tt = *t.transpose(0, 2); // [4, 3, 2]
  EXPECT_FALSE(tt.isContiguous());
  EXPECT_EQ(tt.view({24}).status().code(), StatusCode::InvalidArgument);
  auto flat = tt.reshape({24});
  ASSERT_TRUE(flat.ok());
  EXPECT_FALSE(flat->sharesStorageWith(t));
  // ...but splitting a dim of it can stay a view.
  auto split = tt.view({2, 2, 3, 2});
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_TRUE(split->sharesStorageWith(t));
  EXPECT_EQ(*split->at({1, 0, 2, 1}), *tt.at({2, 2, 1}));
}

TEST(Tensor, TransposeAndContiguous) {
  Tensor t = iota({2, 3});
  Tensor tt = *t.transpose(0, 1);
  EXPECT_EQ(tt.shape(), (Shape{3, 2}));
  EXPECT_EQ(tt.strides(), (Strides{1, 3}));
  EXPECT_EQ(tt.toDoubles(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Tensor c = *tt.contiguous();
  EXPECT_TRUE(c.isContiguous());
  EXPECT_FALSE(c.sharesStorageWith(t));
  EXPECT_EQ(c.toDoubles(), tt.toDoubles());
  // contiguous() of a contiguous tensor is the same view.
  EXPECT_TRUE(t.contiguous()->sharesStorageWith(t));
  EXPECT_EQ(t.permute({0, 0}).status().code(), StatusCode::InvalidArgument);
  EXPECT_EQ(t.transpose(0, 2).status().code(), StatusCode::InvalidArgument);
}

TEST(Tensor, SlicesFollowPython) {
  Tensor t = iota({10});
  auto s = t.slice(0, 2, 8, 3); // [2, 5]
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->toDoubles(), (std::vector<double>{2, 5}));
  auto rev = t.slice(0, -1, INT64_MIN, -1); // [::-1]
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(rev->toDoubles(),
            (std::vector<double>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_TRUE(rev->sharesStorageWith(t));
  auto rev2 = t.slice(0, 7, 2, -2); // [7, 5, 3]
  EXPECT_EQ(rev2->toDoubles(), (std::vector<double>{7, 5, 3}));
  auto empty = t.slice(0, 5, 5, 1);
  EXPECT_EQ(empty->numel(), 0);
  auto clamped = t.slice(0, -100, 100, 1);
  EXPECT_EQ(clamped->numel(), 10);
  EXPECT_EQ(t.slice(0, 0, 5, 0).status().code(), StatusCode::InvalidArgument);
  Tensor m = iota({3, 4});
  auto col = m.select(1, 2);
  EXPECT_EQ(col->toDoubles(), (std::vector<double>{2, 6, 10}));
  EXPECT_EQ(m.select(1, 4).status().code(), StatusCode::OutOfRange);
  auto sub = m.slice(std::vector<int64_t>{1, 1}, std::vector<int64_t>{3, 4},
                     std::vector<int64_t>{1, 2});
  EXPECT_EQ(sub->toDoubles(), (std::vector<double>{5, 7, 9, 11}));
}

TEST(Tensor, SqueezeExpandBroadcast) {
  Tensor t = iota({3, 1, 2});
  auto sq = t.squeeze(std::vector<int64_t>{1});
  EXPECT_EQ(sq->shape(), (Shape{3, 2}));
  EXPECT_EQ(t.squeeze(std::vector<int64_t>{0}).status().code(),
            StatusCode::InvalidArgument);
  auto ex = sq->expandDims(std::vector<int64_t>{0, -1});
  ASSERT_TRUE(ex.ok()) << ex.status();
  EXPECT_EQ(ex->shape(), (Shape{1, 3, 2, 1}));
  EXPECT_EQ(ex->toDoubles(), t.toDoubles());
  auto b = sq->slice(0, 0, 1)->broadcastTo({4, 3, 2}); // [1, 2] -> [4, 3, 2]
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->strides(), (Strides{0, 0, 1}));
  auto row = iota({2});
  auto bb = row.broadcastTo({3, 2});
  ASSERT_TRUE(bb.ok());
  EXPECT_EQ(bb->strides(), (Strides{0, 1}));
  EXPECT_EQ(bb->toDoubles(), (std::vector<double>{0, 1, 0, 1, 0, 1}));
  EXPECT_EQ(row.broadcastTo({3}).status().code(), StatusCode::InvalidArgument);
}

TEST(Tensor, CastsSaturate) {
  auto t = Tensor::fromDoubles(std::vector<double>{1.5, -300, NAN, 1e10, 0},
                               {5}, DType::F64);
  auto i8 = t->to(DType::I8);
  EXPECT_EQ(i8->toDoubles(), (std::vector<double>{1, -128, 0, 127, 0}));
  auto b = t->to(DType::Bool);
  EXPECT_EQ(b->toDoubles(), (std::vector<double>{1, 1, 1, 1, 0}));
  auto h = t->to(DType::F16);
  EXPECT_EQ(*h->at({0}), 1.5);
  EXPECT_TRUE(std::isinf(*h->at({3})));
  auto bf = Tensor::fromDoubles(std::vector<double>{1, 2}, {2}, DType::BF16);
  EXPECT_EQ(bf->to(DType::F32)->toDoubles(), (std::vector<double>{1, 2}));
}

TEST(Tensor, CopyFromStridedAndSet) {
  Tensor dst = *Tensor::zeros({3, 2}, DType::F32);
  Tensor src = *iota({2, 3}, DType::I32).transpose(0, 1);
  ASSERT_TRUE(dst.copyFrom(src).isOk());
  EXPECT_EQ(dst.toDoubles(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(dst.copyFrom(iota({2, 3})).code(), StatusCode::InvalidArgument);
  // Writing through a view is visible in the base.
  Tensor view = *dst.select(0, 1);
  ASSERT_TRUE(view.set(std::vector<int64_t>{1}, 42).isOk());
  EXPECT_EQ(*dst.at({1, 1}), 42);
  EXPECT_EQ(view.set(std::vector<int64_t>{2}, 1).code(), StatusCode::OutOfRange);
  EXPECT_EQ(dst.at({0}).status().code(), StatusCode::InvalidArgument);
}

TEST(Tensor, LargeStridedCopyUsesThePool) {
  Tensor t = iota({512, 384});
  Tensor tt = *t.transpose(0, 1);
  Tensor c = *tt.contiguous();
  std::vector<double> v = c.toDoubles();
  for (int64_t i = 0; i < 384; i += 37)
    for (int64_t j = 0; j < 512; j += 41)
      ASSERT_EQ(v[size_t(i * 512 + j)], double(j * 384 + i));
}

TEST(Tensor, StorageOutlivesViewsAndReturnsMemory) {
  Allocator &alloc = cpuDevice().allocator();
  int64_t before = alloc.stats().bytesInUse;
  {
    Tensor view;
    {
      Tensor t = *Tensor::zeros({1000}, DType::F32);
      view = *t.slice(0, 10, 20);
    }
    EXPECT_GT(alloc.stats().bytesInUse, before); // Kept alive by the view.
    EXPECT_EQ(*view.at({0}), 0.0);
  }
  EXPECT_EQ(alloc.stats().bytesInUse, before);
}

TEST(Tensor, FromStorageChecksBounds) {
  auto storage = *Storage::allocate(cpuDevice(), 40);
  EXPECT_TRUE(Tensor::fromStorage(storage, DType::F32, {2, 5}, {5, 1}, 0).ok());
  EXPECT_EQ(Tensor::fromStorage(storage, DType::F32, {2, 5}, {5, 1}, 1)
                .status()
                .code(),
            StatusCode::OutOfRange);
  EXPECT_EQ(Tensor::fromStorage(storage, DType::F32, {2}, {-1}, 0)
                .status()
                .code(),
            StatusCode::OutOfRange);
  std::vector<float> external = {1, 2, 3};
  bool released = false;
  {
    auto s = Storage::wrap(cpuDevice(), external.data(), 12,
                           [&](void *) { released = true; });
    auto t = Tensor::fromStorage(s, DType::F32, {3}, {1}, 0);
    EXPECT_EQ(t->toDoubles(), (std::vector<double>{1, 2, 3}));
  }
  EXPECT_TRUE(released);
}

TEST(Device, Lookup) {
  EXPECT_EQ(*getDevice("cpu"), &cpuDevice());
  EXPECT_EQ(getDevice("cuda:0").status().code(), StatusCode::Unavailable);
  EXPECT_EQ(getDevice("tpu").status().code(), StatusCode::NotFound);
}

} // namespace
