// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

/// @title Runs the hooks of CoW-style orders (appData `metadata.hooks`) for one settlement.
/// @notice The settlement contract never calls a user's hook itself: a hook running as the
/// settlement could move its buffers. The settlement calls `execute` in its pre- and
/// post-interactions instead; each hook then runs from this contract, which holds nothing,
/// with exactly the gas it asked for, and a hook that reverts does not revert the batch
/// (it is reported with `HookFailed`).
contract HooksTrampoline {
    struct Hook {
        address target;
        bytes callData;
        uint256 gasLimit;
    }

    /// The only caller `execute` accepts.
    address public immutable settlement;

    /// A hook reverted (or ran out of its gas); `hookId` is
    /// `keccak256(abi.encode(target, callData, gasLimit))`.
    event HookFailed(bytes32 indexed hookId);

    error NotASettlement();

    constructor(address settlement_) {
        settlement = settlement_;
    }

    /// Run `hooks` in order, each with its own gas limit; whether each one succeeded.
    /// If the transaction cannot give a hook the gas it asked for, the whole call fails by
    /// using up its gas (so that `eth_estimateGas` searches higher instead of settling a
    /// hook starved of gas).
    function execute(Hook[] calldata hooks) external returns (bool[] memory succeeded) {
        if (msg.sender != settlement) {
            revert NotASettlement();
        }
        succeeded = new bool[](hooks.length);
        for (uint256 i = 0; i < hooks.length; ++i) {
            Hook calldata hook = hooks[i];
            // A call forwards at most 63/64 of the gas left.
            if ((gasleft() * 63) / 64 < hook.gasLimit) {
                assembly {
                    invalid()
                }
            }
            bytes memory data = hook.callData;
            address target = hook.target;
            uint256 limit = hook.gasLimit;
            bool ok;
            // no return data is copied: a hook cannot make the trampoline pay for memory
            assembly {
                ok := call(limit, target, 0, add(data, 32), mload(data), 0, 0)
            }
            if (!ok) {
                emit HookFailed(keccak256(abi.encode(target, data, limit)));
            }
            succeeded[i] = ok;
        }
    }
}
