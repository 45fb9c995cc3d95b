//===- NN.h - kiln::nn, layers for eager training --------------------------===//
//
// The layers library on top of eager ops and autograd: Module (named
// parameters, buffers, submodules, train/eval), torch.nn's layers with
// PyTorch's parameter names and initialisation, and the losses.
//
//   #include "kiln/NN.h"
//   kiln::Generator gen(0);
//   KILN_ASSIGN_OR_RETURN(auto fc1, kiln::nn::Linear::create({.inFeatures = 2, .outFeatures = 8}, gen));
//   KILN_ASSIGN_OR_RETURN(auto act, kiln::nn::Activation::create("tanh"));
//   KILN_ASSIGN_OR_RETURN(auto fc2, kiln::nn::Linear::create({.inFeatures = 8, .outFeatures = 1}, gen));
//   KILN_ASSIGN_OR_RETURN(auto net, kiln::nn::Sequential::create({fc1, act, fc2}));
//   KILN_ASSIGN_OR_RETURN(kiln::Tensor loss, kiln::nn::mseLoss(*net->forward(x), y));
//   KILN_RETURN_IF_ERROR(loss.backward());   // grads of "0.weight", ... filled
//
//===----------------------------------------------------------------------===//
#ifndef KILN_NN_H
#define KILN_NN_H

#include "kiln/nn/Init.h"
#include "kiln/nn/Layers.h"
#include "kiln/nn/Losses.h"
#include "kiln/nn/Module.h"
#include "kiln/nn/Recurrent.h"
#include "kiln/nn/Transformer.h"

#endif // KILN_NN_H
