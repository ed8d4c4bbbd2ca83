// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

/// A Chainlink-style price feed for the devnet: its owner sets the answer; readers call
/// `latestRoundData()` and `decimals()` as they would on an `AggregatorV3Interface`.
contract PriceOracle {
    address public immutable owner;
    uint8 public immutable decimals;
    uint80 private round;
    int256 private answer;
    uint256 private updatedAt;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    constructor(uint8 decimals_, int256 initial) {
        owner = msg.sender;
        decimals = decimals_;
        _set(initial);
    }

    function setAnswer(int256 value) external {
        require(msg.sender == owner, "only the owner");
        _set(value);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 current, uint256 startedAt, uint256 updated, uint80 answeredInRound)
    {
        return (round, answer, updatedAt, updatedAt, round);
    }

    function _set(int256 value) private {
        round += 1;
        answer = value;
        updatedAt = block.timestamp;
        emit AnswerUpdated(value, round, block.timestamp);
    }
}
